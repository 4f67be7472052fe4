// Static HTML, so the sandbox can serve the build; the pages still render on the server at build time.
export default { output: 'export' };
