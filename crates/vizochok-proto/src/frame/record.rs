//! One loop that reads any object of the protocol against its shape.
//!
//! Every object a frame holds (the frame itself, a product card, a
//! summary...) is described by a static [`Shape`]: its fields' names, what
//! each holds and whether it must be there. [`fill`] reads the object's keys
//! against the shape into [`Slots`] and applies the rules of
//! `docs/protocol.md` in this one place: unknown fields skipped, a field
//! given twice refused, required fields present with the right kind of
//! value, optional ones absent or `null`. A small constructor per type then
//! moves the slots into the typed value. Written once instead of once per
//! type, the reader is a fraction of the code in a WebAssembly module.

use std::mem;

use crate::json::reader::{Field, Object, Reader};
use crate::json::{Error, Problem};
use crate::{CartItem, HistoryEntry, PageInfo, ProductItem, SdkInfo, ServerLimits, SessionSummary};

pub(crate) type Res<T> = Result<T, Error>;

/// The most fields any shape has (`auth`'s ten). `frame` refuses a longer
/// frame shape when the program is compiled, and a test checks the records'.
pub(crate) const MAX_FIELDS: usize = 10;

/// The fields of one kind of object; `of` names it in error texts.
#[derive(Debug)]
pub(crate) struct Shape {
    pub of: &'static str,
    pub fields: &'static [Def],
}

/// One field of a shape.
#[derive(Debug)]
pub(crate) struct Def {
    pub name: &'static str,
    pub kind: Kind,
    pub presence: Presence,
}

/// Whether a field may be left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    /// Present, never `null`.
    Required,
    /// Absent or `null`, both meaning "none".
    Optional,
    /// Absent means the default; `null` is the wrong kind of value.
    Defaulted,
}

/// What a field holds.
#[derive(Debug)]
pub(crate) enum Kind {
    Str,
    U64,
    F64,
    Bool,
    /// An unsigned integer up to `max`; `expected` says so when it is not.
    Bounded {
        max: u64,
        expected: &'static str,
    },
    /// A string that is one of `names` (its index is kept); `expected` lists them.
    OneOf {
        names: &'static [&'static str],
        expected: &'static str,
    },
    /// An object or a list, read by its own function.
    Nested(Nested),
}

/// Reads a nested value of a field.
pub(crate) type Nested = for<'a> fn(&mut Reader<'a>, Field) -> Res<Value>;

/// A required field.
pub(crate) const fn required(name: &'static str, kind: Kind) -> Def {
    Def { name, kind, presence: Presence::Required }
}

/// An optional field (absent or `null`).
pub(crate) const fn optional(name: &'static str, kind: Kind) -> Def {
    Def { name, kind, presence: Presence::Optional }
}

/// A field with a default when absent, never `null`.
pub(crate) const fn defaulted(name: &'static str, kind: Kind) -> Def {
    Def { name, kind, presence: Presence::Defaulted }
}

/// A value read for a field.
#[derive(Debug, Default)]
pub(crate) enum Value {
    /// Not given, or `null`.
    #[default]
    Absent,
    Str(String),
    U64(u64),
    F64(f64),
    Bool(bool),
    /// The index of a [`Kind::OneOf`] spelling.
    Index(usize),
    Strings(Vec<String>),
    Products(Vec<ProductItem>),
    Items(Vec<CartItem>),
    History(Vec<HistoryEntry>),
    Summary(SessionSummary),
    Limits(ServerLimits),
    Sdk(SdkInfo),
    Page(PageInfo),
}

/// The values of one object, by the index of their field in its shape.
#[derive(Debug, Default)]
pub(crate) struct Slots([Value; MAX_FIELDS]);

/// A field of a frame's object other than its own: its `type`.
const TYPE: Field = Field { of: "frame", name: "type", item: false };

/// Reads the keys of `object` (already opened) against `shape` into
/// `slots` (empty). A frame's object (`frame`) also holds its `type`, which
/// was read ahead: its first occurrence is skipped here, a second one refused.
pub(crate) fn fill(r: &mut Reader<'_>, object: &mut Object, shape: &Shape, frame: bool, slots: &mut Slots) -> Res<()> {
    let mut seen: u32 = 0;
    let mut seen_type = false;
    while let Some(key) = r.key(object)? {
        let found = shape.fields.iter().zip(&mut slots.0).enumerate().find(|(_, (def, _))| def.name == key);
        let Some((i, (def, slot))) = found else {
            if frame && key == "type" {
                if seen_type {
                    return Err(r.error(Problem::Duplicate(TYPE)));
                }
                seen_type = true;
            }
            r.skip()?;
            continue;
        };
        let field = Field { of: shape.of, name: def.name, item: false };
        if seen & (1 << i) != 0 {
            return Err(r.error(Problem::Duplicate(field)));
        }
        seen |= 1 << i;
        if def.presence != Presence::Optional || !r.null()? {
            *slot = value(r, field, &def.kind)?;
        }
    }
    let missing =
        shape.fields.iter().enumerate().find(|(i, d)| d.presence == Presence::Required && seen & (1 << i) == 0);
    if let Some((_, def)) = missing {
        return Err(r.error(Problem::Missing(Field { of: shape.of, name: def.name, item: false })));
    }
    Ok(())
}

fn value(r: &mut Reader<'_>, f: Field, kind: &Kind) -> Res<Value> {
    Ok(match kind {
        Kind::Str => Value::Str(r.string(f)?),
        Kind::U64 => Value::U64(r.u64(f)?),
        Kind::F64 => Value::F64(r.f64(f)?),
        Kind::Bool => Value::Bool(r.bool(f)?),
        Kind::Bounded { max, expected } => {
            let at = r.position();
            let n = r.u64(f)?;
            if n > *max {
                return Err(r.mistyped_at(at, f, expected));
            }
            Value::U64(n)
        }
        Kind::OneOf { names, expected } => {
            let at = r.position();
            let text = r.str(f)?;
            match names.iter().position(|name| *name == text) {
                Some(i) => Value::Index(i),
                None => return Err(r.mistyped_at(at, f, expected)),
            }
        }
        Kind::Nested(read) => read(r, f)?,
    })
}

/// An object of `shape` as a `T` (`at` names it if it is not an object).
pub(crate) fn record<T>(r: &mut Reader<'_>, at: Field, shape: &Shape, build: fn(&mut Slots) -> T) -> Res<T> {
    let mut object = r.object(at)?;
    let mut slots = Slots::default();
    fill(r, &mut object, shape, false, &mut slots)?;
    Ok(build(&mut slots))
}

/// A list whose items `item` reads (errors name "an item of" the field).
pub(crate) fn list<'a, T>(r: &mut Reader<'a>, f: Field, item: fn(&mut Reader<'a>, Field) -> Res<T>) -> Res<Vec<T>> {
    let mut array = r.array(f)?;
    let mut items = Vec::new();
    while r.item(&mut array)? {
        items.push(item(r, Field { item: true, ..f })?);
    }
    Ok(items)
}

/// Moves values out by field index. A slot [`fill`] left empty gives the
/// type's empty value, which only optional and defaulted fields can be.
impl Slots {
    fn take(&mut self, i: usize) -> Value {
        self.0.get_mut(i).map(mem::take).unwrap_or_default()
    }

    pub fn opt_string(&mut self, i: usize) -> Option<String> {
        match self.take(i) {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn string(&mut self, i: usize) -> String {
        self.opt_string(i).unwrap_or_default()
    }

    pub fn opt_u64(&mut self, i: usize) -> Option<u64> {
        match self.take(i) {
            Value::U64(n) => Some(n),
            _ => None,
        }
    }

    pub fn u64(&mut self, i: usize) -> u64 {
        self.opt_u64(i).unwrap_or_default()
    }

    pub fn opt_f64(&mut self, i: usize) -> Option<f64> {
        match self.take(i) {
            Value::F64(x) => Some(x),
            _ => None,
        }
    }

    pub fn f64(&mut self, i: usize) -> f64 {
        self.opt_f64(i).unwrap_or_default()
    }

    /// `false` when absent.
    pub fn bool(&mut self, i: usize) -> bool {
        matches!(self.take(i), Value::Bool(true))
    }

    /// The index of a [`Kind::OneOf`] spelling; past every list when
    /// absent, so that `LIST.get(index)` is `None` for an optional field.
    pub fn index(&mut self, i: usize) -> usize {
        match self.take(i) {
            Value::Index(n) => n,
            _ => usize::MAX,
        }
    }

    pub fn strings(&mut self, i: usize) -> Vec<String> {
        match self.take(i) {
            Value::Strings(v) => v,
            _ => Vec::new(),
        }
    }

    pub fn products(&mut self, i: usize) -> Option<Vec<ProductItem>> {
        match self.take(i) {
            Value::Products(v) => Some(v),
            _ => None,
        }
    }

    pub fn items(&mut self, i: usize) -> Vec<CartItem> {
        match self.take(i) {
            Value::Items(v) => v,
            _ => Vec::new(),
        }
    }

    pub fn history(&mut self, i: usize) -> Option<Vec<HistoryEntry>> {
        match self.take(i) {
            Value::History(v) => Some(v),
            _ => None,
        }
    }

    pub fn summary(&mut self, i: usize) -> Option<SessionSummary> {
        match self.take(i) {
            Value::Summary(s) => Some(s),
            _ => None,
        }
    }

    pub fn limits(&mut self, i: usize) -> Option<ServerLimits> {
        match self.take(i) {
            Value::Limits(l) => Some(l),
            _ => None,
        }
    }

    pub fn sdk(&mut self, i: usize) -> SdkInfo {
        match self.take(i) {
            Value::Sdk(s) => s,
            _ => SdkInfo { name: String::new(), version: String::new() },
        }
    }

    pub fn page(&mut self, i: usize) -> Option<PageInfo> {
        match self.take(i) {
            Value::Page(p) => Some(p),
            _ => None,
        }
    }
}
