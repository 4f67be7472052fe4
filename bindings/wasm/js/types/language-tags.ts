// The widget takes any language tag (docs/hosts.md), as a page has one:
// compiled with `tsc --strict` against the package's types, like the seed's
// examples beside it.
import { VIZOCHOKWidget } from 'vizochok';
import type { Language } from 'vizochok';

export const widget = new VIZOCHOKWidget({ apiKey: 'pk_your_key', storeId: 'your-store', language: navigator.language });
widget.setLanguage('uk-UA');
// What it reads back is one of its own languages.
export const shown: Language = widget.language;
