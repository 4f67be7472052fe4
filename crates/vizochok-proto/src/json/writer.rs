//! A JSON writer into one `String`: objects, arrays, escaped strings and
//! numbers, in the exact text serde_json writes for the same values
//! (numbers outside the fast path aside, which may be spelled differently
//! but read back the same).

use super::{numbers, plain_run};

/// Text being written; commas are placed by the writer.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
    /// A value was just written, so the next key or item needs a comma.
    after_value: bool,
}

impl Writer {
    /// An empty writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Writer {
        Writer { out: String::with_capacity(capacity), after_value: false }
    }

    /// The text written.
    pub fn finish(self) -> String {
        self.out
    }

    fn comma(&mut self) {
        if self.after_value {
            self.out.push(',');
        }
        self.after_value = false;
    }

    /// Starts an object (as a value, or an item of an array).
    pub fn begin_object(&mut self) {
        self.comma();
        self.out.push('{');
    }

    /// Ends the current object.
    pub fn end_object(&mut self) {
        self.out.push('}');
        self.after_value = true;
    }

    /// Starts an array.
    pub fn begin_array(&mut self) {
        self.comma();
        self.out.push('[');
    }

    /// Ends the current array.
    pub fn end_array(&mut self) {
        self.out.push(']');
        self.after_value = true;
    }

    /// Writes a key; its value comes next. Keys are field names, which need no escapes.
    pub fn key(&mut self, name: &str) {
        self.comma();
        self.out.push('"');
        self.out.push_str(name);
        self.out.push_str("\":");
    }

    /// A string value (or array item), escaped as serde_json does.
    pub fn str(&mut self, text: &str) {
        self.comma();
        self.out.push('"');
        let bytes = text.as_bytes();
        let mut run = 0;
        let mut i = plain_run(bytes, 0);
        while let Some(&b) = bytes.get(i) {
            let escape = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x08 => "\\b",
                0x0c => "\\f",
                0..=0x1f => "",
                _ => {
                    i += 1;
                    continue;
                }
            };
            self.out.push_str(text.get(run..i).unwrap_or_default());
            if escape.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.out.push_str("\\u00");
                self.out.push(char::from(HEX[usize::from(b >> 4)]));
                self.out.push(char::from(HEX[usize::from(b & 0xf)]));
            } else {
                self.out.push_str(escape);
            }
            run = i + 1;
            i = plain_run(bytes, run);
        }
        self.out.push_str(text.get(run..).unwrap_or_default());
        self.out.push('"');
        self.after_value = true;
    }

    /// An unsigned integer.
    pub fn u64(&mut self, n: u64) {
        self.comma();
        numbers::write_u64(n, &mut self.out);
        self.after_value = true;
    }

    /// A number that reads back as exactly `x` (`null` if `x` is not finite).
    pub fn f64(&mut self, x: f64) {
        self.comma();
        numbers::write_f64(x, &mut self.out);
        self.after_value = true;
    }

    /// `true` or `false`.
    pub fn bool(&mut self, b: bool) {
        self.comma();
        self.out.push_str(if b { "true" } else { "false" });
        self.after_value = true;
    }

    /// `null`.
    pub fn null(&mut self) {
        self.comma();
        self.out.push_str("null");
        self.after_value = true;
    }

    /// A key and a string.
    pub fn str_field(&mut self, name: &str, value: &str) {
        self.key(name);
        self.str(value);
    }

    /// A key and a string or `null`.
    pub fn nullable_str_field(&mut self, name: &str, value: Option<&str>) {
        self.key(name);
        match value {
            Some(v) => self.str(v),
            None => self.null(),
        }
    }

    /// A key and a number or `null`.
    pub fn nullable_f64_field(&mut self, name: &str, value: Option<f64>) {
        self.key(name);
        match value {
            Some(v) => self.f64(v),
            None => self.null(),
        }
    }

    /// A key and a string, only when there is one.
    pub fn optional_str_field(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.str_field(name, v);
        }
    }

    /// A key and an integer, only when there is one.
    pub fn optional_u64_field(&mut self, name: &str, value: Option<u64>) {
        if let Some(v) = value {
            self.key(name);
            self.u64(v);
        }
    }

    /// A key and a number, only when there is one.
    pub fn optional_f64_field(&mut self, name: &str, value: Option<f64>) {
        if let Some(v) = value {
            self.key(name);
            self.f64(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_like_serde_json() {
        let mut w = Writer::default();
        w.begin_array();
        w.str("plain");
        w.str("q\"b\\s/ \n\r\t\u{8}\u{c}\u{1}\u{1f} é 🥛 \u{7f}\u{2028}");
        w.end_array();
        assert_eq!(w.finish(), r#"["plain","q\"b\\s/ \n\r\t\b\f\u0001\u001f é 🥛 "#.to_owned() + "\u{7f}\u{2028}\"]");
    }

    #[test]
    fn commas_go_between_keys_and_items_at_every_level() {
        let mut w = Writer::default();
        w.begin_object();
        w.str_field("a", "x");
        w.key("b");
        w.begin_array();
        w.u64(1);
        w.begin_object();
        w.end_object();
        w.begin_array();
        w.end_array();
        w.null();
        w.end_array();
        w.key("c");
        w.bool(true);
        w.optional_u64_field("d", None);
        w.nullable_f64_field("e", Some(1.5));
        w.end_object();
        assert_eq!(w.finish(), r#"{"a":"x","b":[1,{},[],null],"c":true,"e":1.5}"#);
    }
}
