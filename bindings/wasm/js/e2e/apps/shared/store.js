// The store app every bundler fixture builds: the widget from the `vizochok`
// package, with the seed's callbacks, logging each to window.vizochokEvents.
import { VIZOCHOKWidget } from 'vizochok';

export function startWidget() {
  const events = [];
  window.vizochokEvents = events;
  const log = (name) => (data) => events.push({ name, data });
  const widget = new VIZOCHOKWidget({
    apiKey: 'pk_your_key',
    storeId: 'your-store',
    serverUrl: `ws://${location.host}/v1/ws`,
    persistSession: 'none',
    onCartChanged: log('cart_changed'),
    onProductClick: log('product_click'),
    onSessionComplete: log('session_complete'),
    onError: log('error'),
    onConnect: log('connect'),
    onDisconnect: log('disconnect'),
    onMessage: log('message'),
  });
  window.vizochokWidget = widget;
  return widget;
}
