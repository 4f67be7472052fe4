//! The public types as data, read off the Rust definitions. Each record is
//! written as an exhaustive destructuring of the real struct (`record!`),
//! and each enum's variants come from its `ALL` list, so a field or a
//! variant added in Rust does not compile here until the schema (and with
//! it every generated mirror) has it.

use vizochok_core::proto::markdown::{Block, BlockKind, Span};
use vizochok_core::{
    ActionKind, Cart, CartAction, CartChangedEvent, CartItem, ErrorCode, Event, HistoryEntry, Limits, PageContext,
    PageInfo, PendingAction, ProductItem, Rating, Reply, Role, SessionSummary, State, Timers, WidgetError,
};

/// A field's type, as the mirrors need it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Str,
    Float,
    Int,
    Bool,
    /// May be absent (left out of the JSON when `None`).
    Opt(Box<Ty>),
    /// Always present, `null` when `None` (the contract's `number | null`).
    Null(Box<Ty>),
    List(Box<Ty>),
    Named(&'static str),
}

/// A nullable field: `Opt(T)` becomes `Null(T)`.
fn nullable(ty: Ty) -> Ty {
    match ty {
        Ty::Opt(inner) => Ty::Null(inner),
        other => other,
    }
}

/// How a Rust type is described.
pub trait Describe {
    fn ty() -> Ty;
}

macro_rules! describe {
    ($($rust:ty => $ty:expr,)*) => { $(impl Describe for $rust { fn ty() -> Ty { $ty } })* };
}

describe! {
    String => Ty::Str, f64 => Ty::Float, u64 => Ty::Int, u32 => Ty::Int, bool => Ty::Bool,
    ErrorCode => Ty::Named("ErrorCode"), CartAction => Ty::Named("CartAction"), Role => Ty::Named("Role"),
    State => Ty::Named("State"), ActionKind => Ty::Named("ActionKind"), Rating => Ty::Named("Rating"),
    BlockKind => Ty::Named("BlockKind"),
}

impl<T: Describe> Describe for Option<T> {
    fn ty() -> Ty {
        Ty::Opt(Box::new(T::ty()))
    }
}

impl<T: Describe> Describe for Vec<T> {
    fn ty() -> Ty {
        Ty::List(Box::new(T::ty()))
    }
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
}

#[derive(Debug, Clone)]
pub struct Record {
    pub name: &'static str,
    pub doc: &'static str,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone)]
pub struct StrEnum {
    pub name: &'static str,
    pub doc: &'static str,
    /// The wire spellings, in order.
    pub values: Vec<&'static str>,
}

/// A config struct of whole-millisecond or count defaults.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub name: &'static str,
    pub doc: &'static str,
    pub fields: Vec<(&'static str, u64)>,
}

/// One kind of [`Event`]: its name in the scenario suite and on the wire of
/// `onMessage`, the class a runtime gives it, and what it carries.
#[derive(Debug, Clone)]
pub struct EventKind {
    pub name: &'static str,
    pub class: &'static str,
    pub doc: &'static str,
    pub fields: Vec<Field>,
    /// A UI event (`onMessage`), not one of the six callbacks or a state change.
    pub ui: bool,
}

#[derive(Debug, Clone)]
pub struct Schema {
    pub enums: Vec<StrEnum>,
    pub records: Vec<Record>,
    pub defaults: Vec<Defaults>,
    pub events: Vec<EventKind>,
}

/// `record!(Doc, Type { field: RustType, … })`: a [`Record`], and a
/// compile-time check that the list is the struct's whole field list.
macro_rules! record {
    (@ty null $rust:ty) => { nullable(<$rust>::ty()) };
    (@ty $rust:ty) => { <$rust>::ty() };
    ($doc:literal, $name:ident { $($(#[$null:ident])? $field:ident: $rust:ty),* $(,)? }) => {{
        #[allow(dead_code)]
        fn exhaustive(value: $name) -> ($($rust,)*) {
            let $name { $($field,)* } = value;
            ($($field,)*)
        }
        Record {
            name: stringify!($name),
            doc: $doc,
            fields: vec![$(Field { name: stringify!($field), ty: record!(@ty $($null)? $rust) }),*],
        }
    }};
}

/// `defaults!(Doc, Type)`: the struct's default values, field by field;
/// the destructuring fails to compile when a field is added.
macro_rules! defaults {
    ($doc:literal, $name:ident { $($field:ident),* $(,)? }) => {{
        let $name { $($field,)* } = $name::default();
        Defaults { name: stringify!($name), doc: $doc, fields: vec![$((stringify!($field), u64::try_from($field).unwrap_or(u64::MAX))),*] }
    }};
}

macro_rules! each_record {
    ($($record:ident),* $(,)?) => { $(impl Describe for $record { fn ty() -> Ty { Ty::Named(stringify!($record)) } })* };
}

each_record!(
    CartItem,
    ProductItem,
    SessionSummary,
    CartChangedEvent,
    WidgetError,
    HistoryEntry,
    Cart,
    PageInfo,
    PageContext,
    Reply,
    Block,
    Span,
    PendingAction
);

fn str_enum(name: &'static str, doc: &'static str, values: impl IntoIterator<Item = &'static str>) -> StrEnum {
    StrEnum { name, doc, values: values.into_iter().collect() }
}

fn event(name: &'static str, class: &'static str, doc: &'static str, fields: Vec<Field>) -> EventKind {
    let ui = matches!(name, "typing" | "delta" | "response" | "user_message" | "history" | "ack");
    EventKind { name, class, doc, fields, ui }
}

fn field<T: Describe>(name: &'static str) -> Field {
    Field { name, ty: T::ty() }
}

/// Every event kind, named as the scenario suite names them; the match
/// fails to compile when the core gains an event.
fn events() -> Vec<EventKind> {
    #[allow(dead_code)]
    fn exhaustive(event: Event) -> &'static str {
        match event {
            Event::Connect => "connect",
            Event::Disconnect => "disconnect",
            Event::CartChanged(_) => "cart_changed",
            Event::ProductClick(_) => "product_click",
            Event::SessionComplete(_) => "session_complete",
            Event::Error(_) => "error",
            Event::StateChanged(_) => "state",
            Event::Typing { .. } => "typing",
            Event::Delta { .. } => "delta",
            Event::Response(_) => "response",
            Event::UserMessage { .. } => "user_message",
            Event::History(_) => "history",
            Event::Acknowledged { .. } => "ack",
        }
    }
    vec![
        event("connect", "Connected", "onConnect: authenticated and ready.", vec![]),
        event("disconnect", "Disconnected", "onDisconnect: a ready connection is gone.", vec![]),
        event(
            "cart_changed",
            "CartChanged",
            "onCartChanged; `cart.items` is the whole cart.",
            vec![field::<CartChangedEvent>("cart")],
        ),
        event(
            "product_click",
            "ProductClicked",
            "onProductClick: the shopper pressed Add.",
            vec![field::<ProductItem>("product")],
        ),
        event("session_complete", "SessionCompleted", "onSessionComplete.", vec![field::<SessionSummary>("summary")]),
        event("error", "ErrorOccurred", "onError.", vec![field::<WidgetError>("error")]),
        event("state", "StateChanged", "The connection state changed.", vec![field::<State>("state")]),
        event("typing", "Typing", "The assistant is working on a reply.", vec![field::<Option<String>>("reply_to")]),
        event(
            "delta",
            "Delta",
            "A streamed chunk of a reply.",
            vec![field::<String>("message_id"), field::<String>("reply_to"), field::<String>("text")],
        ),
        event("response", "Response", "A whole reply.", vec![field::<Reply>("reply")]),
        event(
            "user_message",
            "UserMessage",
            "What the shopper typed on another tab or device.",
            vec![field::<String>("id"), field::<String>("text")],
        ),
        event(
            "history",
            "HistoryReplaced",
            "The conversation so far replaces what the UI shows.",
            vec![field::<Vec<HistoryEntry>>("entries")],
        ),
        event("ack", "Acknowledged", "The server made an action durable.", vec![field::<String>("id")]),
    ]
}

pub fn schema() -> Schema {
    Schema {
        enums: vec![
            str_enum(
                "ErrorCode",
                "Every `WidgetError.code`: the server codes, then the client codes.",
                ErrorCode::ALL.iter().map(|c| c.as_str()),
            ),
            str_enum("CartAction", "What triggered a cart change.", CartAction::ALL.map(CartAction::as_str)),
            str_enum("State", "The connection state.", State::ALL.map(State::as_str)),
            str_enum("Role", "Who said a line of the conversation.", [Role::User, Role::Assistant].map(Role::as_str)),
            str_enum(
                "ActionKind",
                "Which action a pending action id stands for (its frame type).",
                ActionKind::ALL.map(ActionKind::as_str),
            ),
            str_enum("Rating", "A shopper's rating of a reply.", [Rating::Up, Rating::Down].map(Rating::as_str)),
            str_enum("BlockKind", "What a block of a reply's Markdown is.", BlockKind::ALL.map(BlockKind::as_str)),
        ],
        records: vec![
            record!("One line of the cart.", CartItem { sku: String, name: String, price: f64, #[null] promo_price: Option<f64>, #[null] brand: Option<String>, quantity: f64 }),
            record!("A product card shown in the chat.", ProductItem { sku: String, name: String, price: f64, unit: String, quantity_step: f64, quantity: Option<f64>, #[null] brand: Option<String>, #[null] image_url: Option<String>, #[null] promo_price: Option<f64> }),
            record!("The selected items of a session.", SessionSummary { selected_items: Vec<CartItem>, total: f64, item_count: u64 }),
            record!("What changed in the cart; `items` is always the whole cart.", CartChangedEvent { action: CartAction, sku: Option<String>, name: Option<String>, quantity: Option<f64>, price: Option<f64>, items: Vec<CartItem>, total: f64 }),
            record!("What onError receives.", WidgetError { code: ErrorCode, message: String, detail: Option<String>, reply_to: Option<String>, retry_after_ms: Option<u64> }),
            record!("One line of the conversation.", HistoryEntry { role: Role, text: String, products: Option<Vec<ProductItem>>, message_id: Option<String>, rating: Option<Rating> }),
            record!("The cart as the server last confirmed it.", Cart { items: Vec<CartItem>, total: f64 }),
            record!("The page the shopper is on.", PageInfo { url: Option<String>, title: Option<String> }),
            record!("What the shopper is looking at.", PageContext { page: Option<PageInfo>, sku: Option<String>, category: Option<String>, query: Option<String>, locale: Option<String>, currency: Option<String> }),
            record!("A run of reply text with one style.", Span { text: String, bold: bool, italic: bool, link: Option<String> }),
            record!("A paragraph or a list item of a reply.", Block { kind: BlockKind, number: Option<u32>, spans: Vec<Span> }),
            record!("The assistant's whole reply.", Reply { message_id: String, reply_to: String, text: String, products: Vec<ProductItem>, summary: Option<SessionSummary>, cancelled: bool, suggestions: Vec<String> }),
            record!(
                "An accepted action that has not ended.",
                PendingAction { id: String, kind: ActionKind, sent: bool }
            ),
        ],
        defaults: vec![
            defaults!(
                "Every timer of the protocol, in milliseconds.",
                Timers {
                    socket_open_ms,
                    auth_ms,
                    heartbeat_ms,
                    heartbeat_answer_ms,
                    backoff_base_ms,
                    backoff_max_ms,
                    storm_spread_ms,
                    retry_after_ms,
                    bad_frame_window_ms,
                }
            ),
            defaults!(
                "Every size and count limit of the protocol.",
                Limits {
                    max_message_chars,
                    max_outbound_bytes,
                    max_inbound_bytes,
                    queue_capacity,
                    max_reconnect_attempts,
                    max_action_retries,
                    max_bad_frames,
                    known_products,
                }
            ),
        ],
        events: events(),
    }
}
