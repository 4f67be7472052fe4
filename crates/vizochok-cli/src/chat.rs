//! `vizochok chat`: the terminal chat and its `--json` mode. Everything the
//! protocol demands happens in the core; this loop only turns lines into
//! user actions and events into output.

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{broadcast, mpsc};
use vizochok_client::{Client, NoCallbacks};
use vizochok_core::{ActionError, Event, PageContext, ProductItem, Rating, Secret, State};
use vizochok_sandbox::{LogSink, RunningSandbox, SandboxOptions};

use crate::render::Screen;
use crate::ChatArgs;

/// A line the user typed, parsed.
enum Line {
    Message(String),
    Add {
        card: usize,
        quantity: Option<f64>,
    },
    Remove(usize),
    Cart,
    Clear,
    /// The page now shows this product (`None`: no product page).
    Context(Option<String>),
    /// Stop the reply that is streaming.
    Stop,
    /// Rate the last reply, with an optional comment.
    Rate(Rating, Option<String>),
    Quit,
    Usage,
}

fn parse(line: &str) -> Option<Line> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let Some(command) = line.strip_prefix('/') else { return Some(Line::Message(line.to_owned())) };
    let words: Vec<&str> = command.split_whitespace().collect();
    let number = |i: usize| words.get(i).and_then(|w| w.parse::<usize>().ok()).filter(|n| *n > 0);
    Some(match words.as_slice() {
        ["add", _] | ["add", _, _] => match (number(1), words.get(2).map(|q| q.replace(',', ".").parse::<f64>())) {
            (Some(card), None) => Line::Add { card, quantity: None },
            (Some(card), Some(Ok(quantity))) => Line::Add { card, quantity: Some(quantity) },
            _ => Line::Usage,
        },
        ["remove", _] => number(1).map_or(Line::Usage, Line::Remove),
        ["cart"] => Line::Cart,
        ["clear"] => Line::Clear,
        ["context"] => Line::Context(None),
        ["context", sku] => Line::Context(Some((*sku).to_owned())),
        ["stop"] => Line::Stop,
        [rating @ ("up" | "down"), comment @ ..] => {
            let rating = if *rating == "up" { Rating::Up } else { Rating::Down };
            Line::Rate(rating, (!comment.is_empty()).then(|| comment.join(" ")))
        }
        ["quit"] | ["exit"] => Line::Quit,
        _ => Line::Usage,
    })
}

const USAGE: &str = "commands: /add N [QTY], /remove N, /cart, /clear, /context [SKU], /stop, /up [COMMENT], \
                     /down [COMMENT], /quit; anything else is a message";

/// Runs the chat until `/quit`, the end of stdin, or (with `--json`) the end
/// of stdin and of every reply.
pub(crate) async fn run(args: ChatArgs) -> Result<ExitCode, String> {
    let (url, sandbox) = match &args.url {
        Some(url) => (url.clone(), None),
        None => {
            let sandbox = embedded_sandbox().await?;
            (sandbox.ws_url(), Some(sandbox))
        }
    };
    let mut config = vizochok_client::config(&args.api_key, &args.store, &url);
    config.language = args.language.into();
    config.user_id = args.user_id.clone();
    config.user_token = args.user_token.as_deref().map(Secret::new);
    args.timers.apply(&mut config);
    let client = Client::new(config, NoCallbacks).map_err(|e| e.to_string())?;
    let mut events = client.events();
    client.connect();
    let mut screen = Screen::new(args.language.into(), args.json);
    let (lines_tx, mut lines) = mpsc::channel(16);
    tokio::spawn(read_stdin(lines_tx));
    let mut stdin_open = true;
    let mut waits = Waits::default();
    // Scripts (`--json`, or lines piped in) take the next line only once the
    // previous one is answered, so `/add 2` refers to the cards of the reply
    // before it; a person at a terminal may type ahead (and always `/quit`).
    let scripted = args.json || !std::io::stdin().is_terminal();
    let code = loop {
        let ready = stdin_open && (!scripted || waits.is_empty());
        tokio::select! {
            // Events first: a line must not overtake the reply it depends on.
            biased;
            event = events.recv() => match event {
                Ok(event) => {
                    waits.update(&event, &client);
                    screen.show(&event, &client);
                    if event == Event::StateChanged(State::Stopped) && args.json {
                        break ExitCode::FAILURE;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break ExitCode::FAILURE,
            },
            line = lines.recv(), if ready => match line {
                None => stdin_open = false,
                Some(line) => match parse(&line) {
                    Some(Line::Quit) => break ExitCode::SUCCESS,
                    Some(line) => waits.extend(act(&client, &mut screen, line)),
                    None => {}
                },
            },
        }
        if !stdin_open && (!scripted || (waits.is_empty() && client.pending_actions().is_empty())) {
            break ExitCode::SUCCESS;
        }
    };
    drop(client);
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    Ok(code)
}

/// What an action the user started still waits for.
#[derive(Clone, Copy, PartialEq)]
enum Awaiting {
    /// A message: its `response` (or a final error).
    Reply,
    /// A cart action: its `cart_changed` (or an error).
    CartChange,
    /// A page frame (`context`, `cancel`, `feedback`): its `ack` (or an error).
    Ack,
}

/// The user's actions whose outcome has not been shown yet, tracked from the
/// events themselves so the chat never runs ahead of what it printed.
#[derive(Default)]
struct Waits(VecDeque<(String, Awaiting)>);

impl Waits {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn extend(&mut self, started: Option<(String, Awaiting)>) {
        self.0.extend(started);
    }

    fn update(&mut self, event: &Event, client: &Client) {
        match event {
            Event::Response(reply) => self.0.retain(|(id, _)| *id != reply.reply_to),
            Event::Error(error) => self.0.retain(|(id, _)| error.reply_to.as_ref() != Some(id)),
            Event::Acknowledged { id } => {
                self.0.retain(|(waiting, awaiting)| *awaiting != Awaiting::Ack || waiting != id)
            }
            // A session's cart changes land one at a time, in order.
            Event::CartChanged(_) => {
                if let Some(first) = self.0.iter().position(|(_, a)| *a == Awaiting::CartChange) {
                    self.0.remove(first);
                }
            }
            // A restored or new session: what the core dropped gets no answer.
            Event::History(_) => {
                let pending = client.pending_actions();
                self.0.retain(|(id, _)| pending.iter().any(|p| p.id == *id));
            }
            _ => {}
        }
    }
}

/// Carries out a line; what it now waits for.
fn act(client: &Client, screen: &mut Screen, line: Line) -> Option<(String, Awaiting)> {
    let card = |n: usize| -> Option<ProductItem> { screen.cards().get(n - 1).cloned() };
    let cart = |id| (id, Awaiting::CartChange);
    let ack = |id| (id, Awaiting::Ack);
    let result = match line {
        Line::Message(text) => client.send_message(&text).map(|id| Some((id, Awaiting::Reply))),
        Line::Add { card: n, quantity } => match card(n) {
            Some(product) => client.select_product(&product, quantity).map(cart).map(Some),
            None => Err(ActionError::Invalid(format!("no card {n}"))),
        },
        Line::Remove(n) => match client.cart().items.get(n - 1) {
            Some(item) => client.remove_item(&item.sku).map(cart).map(Some),
            None => Err(ActionError::Invalid(format!("no cart line {n}"))),
        },
        Line::Clear => client.clear_cart().map(cart).map(Some),
        Line::Context(sku) => client.set_context(PageContext { sku, ..PageContext::default() }).map(ack).map(Some),
        Line::Stop => match client.stop() {
            Ok(Some(id)) => Ok(Some(ack(id))),
            Ok(None) => Err(ActionError::Invalid("nothing is streaming".to_owned())),
            Err(error) => Err(error),
        },
        Line::Rate(rating, comment) => match screen.last_reply() {
            Some(message_id) => client.feedback(&message_id, rating, comment.as_deref()).map(ack).map(Some),
            None => Err(ActionError::Invalid("no reply to rate yet".to_owned())),
        },
        Line::Cart => {
            screen.cart(&client.cart());
            Ok(None)
        }
        Line::Quit => Ok(None),
        Line::Usage => Err(ActionError::Invalid(USAGE.to_owned())),
    };
    match result {
        Ok(started) => started,
        // A rejection was also reported as an error event, shown localized.
        Err(ActionError::Rejected(_)) => None,
        Err(error) => {
            screen.note(&error.to_string());
            None
        }
    }
}

async fn read_stdin(lines: mpsc::Sender<String>) {
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = stdin.next_line().await {
        if lines.send(line).await.is_err() {
            return;
        }
    }
}

/// The demo store on a free loopback port, logging nowhere (the chat owns the terminal).
async fn embedded_sandbox() -> Result<RunningSandbox, String> {
    let options =
        SandboxOptions { addr: SocketAddr::from(([127, 0, 0, 1], 0)), log: LogSink::new(|_| {}), ..Default::default() };
    vizochok_sandbox::start(options).await.map_err(|e| format!("cannot start the embedded sandbox: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert!(matches!(parse("/add 2"), Some(Line::Add { card: 2, quantity: None })));
        assert!(matches!(parse("/add 2 1,5"), Some(Line::Add { card: 2, quantity: Some(q) }) if q == 1.5));
        assert!(matches!(parse("/add 0"), Some(Line::Usage)));
        assert!(matches!(parse("/remove 1"), Some(Line::Remove(1))));
        assert!(matches!(parse("  молоко "), Some(Line::Message(m)) if m == "молоко"));
        assert!(parse("   ").is_none());
        assert!(matches!(parse("/what"), Some(Line::Usage)));
        assert!(matches!(parse("/context MLK-001"), Some(Line::Context(Some(sku))) if sku == "MLK-001"));
        assert!(matches!(parse("/context"), Some(Line::Context(None))));
        assert!(matches!(parse("/stop"), Some(Line::Stop)));
        assert!(matches!(parse("/down too  pricey"), Some(Line::Rate(Rating::Down, Some(c))) if c == "too pricey"));
        assert!(matches!(parse("/up"), Some(Line::Rate(Rating::Up, None))));
    }
}
