// The core's WebAssembly module, started once per page from its bytes, and
// its boundary with JavaScript, by hand (bindings/wasm/src/abi.rs is the
// other side): numbers, and UTF-8 text in the module's memory.
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** What an export's answer means (abi.rs `Answer`): text, null, or an error to throw. */
const THROW = [, , TypeError, RangeError, Error];

/** Compiles and starts the module; what widget.js needs of it. */
export async function start(bytes) {
  let w;
  let memory = new Uint8Array(0);
  const bytesOf = () => (memory.buffer === w.memory.buffer ? memory : (memory = new Uint8Array(w.memory.buffer)));
  const text = (at, len) => decoder.decode(bytesOf().subarray(at, at + len));
  /** Each core's host object, and what its callback threw until the driver reports it. */
  const hosts = [];
  const thrown = [];
  let answer;
  /** A callback threw: kept for the driver's report, and the driver told (1). */
  const threw = (core, error) => {
    thrown[core] = error;
    return 1;
  };
  const vizochok = {
    open: (core, socket, at, len) => hosts[core]?.open(socket, text(at, len)),
    send: (core, socket, at, len) => hosts[core]?.send(socket, text(at, len)),
    close: (core, socket, code, at, len) => hosts[core]?.close(socket, code, text(at, len)),
    timer: (core, deadline) => hosts[core]?.timer(deadline),
    save: (core, at, len) => hosts[core]?.save(len < 0 ? undefined : text(at, len)),
    event: (core, kind, at, len) => {
      try {
        hosts[core].event(kind, text(at, len));
        return 0;
      } catch (error) {
        return threw(core, error);
      }
    },
    frame: (core, kind, n) => {
      try {
        hosts[core].frame(kind, n);
        return 0;
      } catch (error) {
        return threw(core, error);
      }
    },
    released: (core) => {
      hosts[core]?.released();
      hosts[core] = thrown[core] = undefined;
    },
    report: (core, at, len) => {
      hosts[core]?.report(text(at, len), thrown[core]);
      thrown[core] = undefined;
    },
    text: (at, len) => { answer = text(at, len); },
    parse_float: (at, len) => parseFloat(text(at, len)),
    write_float: (x, at, len) => encoder.encodeInto(String(x), bytesOf().subarray(at, at + len)).written,
  };
  ({ exports: w } = await WebAssembly.instantiate(await WebAssembly.compile(await bytes), { vizochok }));

  /** A view of the buffer the module reserved last (kept while it stays the same: a frame is one copy). */
  let view = new Uint8Array(0);
  const reserve = (len) => {
    const at = w.buffer(len);
    if (view.byteOffset !== at || view.length < len || view.buffer !== w.memory.buffer) {
      view = new Uint8Array(w.memory.buffer, at, len);
    }
  };
  /**
   * Writes `text` as UTF-8 into the view from `at`: its byte length. A loop
   * for what is not a surrogate: the fixed cost of an `encodeInto` call was
   * most of what writing a short frame cost in Chromium. From the first
   * surrogate on (emoji, rare), `encodeInto` writes the rest.
   */
  const encode = (text, at) => {
    const start = at;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) {
        view[at++] = c;
      } else if (c < 0x800) {
        view[at++] = 0xc0 | (c >> 6);
        view[at++] = 0x80 | (c & 63);
      } else if ((c & 0xf800) === 0xd800) {
        return at - start + encoder.encodeInto(text.slice(i), view.subarray(at)).written;
      } else {
        view[at++] = 0xe0 | (c >> 12);
        view[at++] = 0x80 | ((c >> 6) & 63);
        view[at++] = 0x80 | (c & 63);
      }
    }
    return at - start;
  };
  /** Writes `text` into a buffer of the module for its next call: its byte length. */
  const put = (text) => {
    reserve(text.length * 3);
    return encode(text, 0);
  };
  /** Writes the strings one after another, likewise: their byte lengths (-1: none). */
  const puts = (...strings) => {
    reserve(strings.reduce((n, s) => n + (s == null ? 0 : s.length * 3), 0));
    let at = 0;
    return strings.map((s) => {
      if (s == null) return -1;
      const written = encode(s, at);
      at += written;
      return written;
    });
  };
  const answered = (kind) => {
    if (kind > 1) throw new THROW[kind](answer);
    return kind ? undefined : answer;
  };
  const cores = new FinalizationRegistry((core) => {
    w.release(core);
    hosts[core] = thrown[core] = undefined;
  });

  /** One widget's core (see abi.rs for what each call means). */
  class Core {
    #core;

    constructor(apiKey, storeId, url, userId, userToken, sessionId, language, seedHi, seedLo, host) {
      const core = w.create(...puts(apiKey, storeId, url, userId, userToken, sessionId, language), seedHi, seedLo);
      if (!core) throw new TypeError(answer);
      hosts[core] = host;
      this.#core = core;
      cores.register(this, core);
    }

    input(kind, now, socket, code, text) {
      w.input(this.#core, kind, now, socket, code, text ? put(text) : 0);
    }

    act(kind, now, a, b, c, n) {
      return answered(w.act(this.#core, kind, now, ...puts(a, b, c), n));
    }

    read(what) {
      w.read(this.#core, what);
      return answer;
    }

    setLanguage(language) {
      w.language(this.#core, put(language));
    }
  }

  const markdown = (source) => {
    w.markdown(put(source));
    return answer;
  };
  return { Core, markdown };
}
