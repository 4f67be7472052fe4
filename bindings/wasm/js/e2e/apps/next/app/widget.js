'use client';
// A client component: the widget lives as long as the component is mounted.
import { useEffect } from 'react';
import { startWidget } from './store.js';

export default function Widget() {
  useEffect(() => {
    const widget = startWidget();
    return () => widget.destroy();
  }, []);
  return null;
}
