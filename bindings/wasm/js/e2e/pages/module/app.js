// The seed's "Connection Status Indicator" pattern, through the ES module
// entry without a bundler; the rest of the page's API is left to the test.
import { VIZOCHOKWidget } from '/vizochok/vizochok.mjs';

const serverUrl = `ws://${location.host}/v1/ws`;
/** For the tests: a widget of the seed's key and store on this sandbox, `config` on top. */
window.seedWidget = (config) => new VIZOCHOKWidget({ apiKey: 'pk_your_key', storeId: 'your-store', serverUrl, ...config });

const statusEl = document.getElementById('assistant-status');
const widget = new VIZOCHOKWidget({
  apiKey: 'pk_your_key',
  storeId: 'your-store',
  serverUrl,
  onConnect: () => {
    statusEl.className = 'status-online';
    statusEl.textContent = 'Assistant online';
  },
  onDisconnect: () => {
    statusEl.className = 'status-offline';
    statusEl.textContent = 'Assistant offline';
  },
});
window.widget = widget;
