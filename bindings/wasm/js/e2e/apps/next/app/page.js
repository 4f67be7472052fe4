// A server component: importing the package on the server must not touch `window`.
import { VIZOCHOKWidget } from 'vizochok';
import Widget from './widget.js';

export default function Page() {
  return (
    <main>
      <h1>A Next.js store</h1>
      <p id="ssr">{typeof VIZOCHOKWidget}</p>
      <Widget />
    </main>
  );
}
