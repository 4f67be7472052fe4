import { startWidget } from './store.js';

startWidget();
