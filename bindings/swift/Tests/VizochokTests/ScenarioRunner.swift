import Foundation
import Vizochok

/// One `scenarios/NAME.json` (docs/scenarios.md) through the public
/// `VizochokWidget`: a scripted `Transport` plays the network, the clock, the
/// timer and the seed, the app's callbacks and `SessionStore` record, and
/// `VizochokLog` is watched. Every output lands in one list, in the order the
/// widget produced it (the runner logic of `crates/vizochok-testkit`, in Swift).
final class ScenarioRig: @unchecked Sendable {
    static let apiKey = "pk_scenario"
    static let storeId = "scenario-store"
    static let url = "ws://127.0.0.1:8787/v1/ws"

    fileprivate(set) var out: [J] = []
    fileprivate var now: UInt64 = 0
    fileprivate var armed: UInt64?
    fileprivate var socket: (UInt64, Reports)?
    fileprivate var timer: Reports?
    fileprivate let observe: [String]
    private var names: [String: String] = [:]
    private var ids: [String: String] = [:]
    private var throwing: Set<String> = []
    private var calls: [String: J] = [:]
    /// Where a refusal returned inside a callback waits for the code of the `onError` that follows.
    private var rejection: Int?
    private var widget: VizochokWidget!

    init(_ scenario: J) throws {
        observe = scenario["observe"]?.array?.compactMap(\.string) ?? []
        let c = scenario["config"]
        let config = VizochokConfig(
            storeId: Self.storeId, url: Self.url, userId: c?["user_id"]?.string, language: c?["language"]?.string ?? "en")
        widget = try VizochokWidget(
            apiKey: Self.apiKey, config: config, callbacks: callbacks(), userToken: c?["user_token"]?.string,
            sessionStore: Store(self, saved: c?["session_id"]?.string),
            transport: Scripted(self, seed: UInt64(c?["seed"]?.number ?? 1)))
    }

    /// Breaks the rig ↔ widget cycle (the widget's callbacks hold the rig).
    func release() { widget = nil }

    /// Runs one step; its normalized outputs.
    func step(_ step: J) throws -> [J] {
        let start = out.count
        if let frame = step["recv"] {
            let (s, r) = try openSocket()
            r.text(socket: s, text: substitute(frame).description)
        } else if let text = step["recv_text"]?.string {
            let (s, r) = try openSocket()
            r.text(socket: s, text: text)
        } else if let ms = step["advance"]?.number {
            try advance(UInt64(ms))
        } else if let what = step["read"]?.string {
            out.append(.obj([("read", try read(what))]))
        } else if let rule = step["app"]?.string, let on = step["on"]?.string {
            if rule == "throws" { throwing.insert(on) } else { calls[on] = step["then"] }
        } else {
            switch step["do"]?.string {
            case "socket_opened": let (s, r) = try openSocket(); r.opened(socket: s)
            case "binary": let (s, r) = try openSocket(); r.binary(socket: s, length: Int(step["len"]?.number ?? 0))
            case "socket_closed":
                let (s, r) = try openSocket()
                r.ended(socket: s, code: step["code"]?.number.map { Int($0) }, reason: "")
            case "socket_error": let (s, r) = try openSocket(); r.ended(socket: s, code: nil, reason: "refused")
            case "timer_fires": timer?.timerFired()
            default:
                let result = try call(step)
                let refused = out[start...].compactMap(Self.errorCode).first
                if let value = outcome(step, result, refused: refused) { out.insert(value, at: start) }
            }
        }
        return out[start...].map(unsubstitute)
    }

    private func openSocket() throws -> (UInt64, Reports) {
        guard let socket else { throw TestFailure("no socket was opened") }
        return socket
    }

    private func advance(_ ms: UInt64) throws {
        let target = now + ms
        for _ in 0..<10_000 {
            guard let due = armed, due <= target else { now = target; return }
            now = max(now, due)
            armed = nil
            timer?.timerFired()
        }
        throw TestFailure("the timer fired 10000 times in one advance: stuck")
    }

    private func read(_ what: String) throws -> J {
        switch what {
        case "pending_actions":
            return .arr(widget.pendingActions.map {
                .obj([("id", .str($0.id)), ("kind", .str(snake($0.kind))), ("sent", .bool($0.sent))])
            })
        case "state": return .str(snake(widget.state))
        case "session_id": return widget.sessionId.map(J.str) ?? .null
        case "cart": return .obj([("items", .arr(widget.cart.items.map(Self.item))), ("total", .num(widget.cart.total))])
        default: throw TestFailure("unknown read \(what)")
        }
    }

    /// What a widget call returned: an id or `nil` (refused, or nothing to stop), nothing, or a thrown error.
    private enum Outcome { case id(String?), done, threw(J) }

    private func call(_ step: J) throws -> Outcome {
        let w: VizochokWidget = widget
        let id: String?
        do {
            switch step["do"]?.string {
            case "connect": w.connect(); return .done
            case "disconnect": w.disconnect(); return .done
            case "destroy": w.close(); return .done
            case "network_online": w.networkOnline(); return .done
            case "reset": try w.reset(); return .done
            case "send_message": id = try w.sendMessage(step["text"]?.string ?? "")
            case "select_product": id = try w.selectProduct(try Self.product(step["product"] ?? .null), quantity: step["quantity"]?.number)
            case "update_quantity":
                id = try w.updateQuantity(sku: step["sku"]?.string ?? "", quantity: step["quantity"]?.number ?? .nan)
            case "remove_item": id = try w.removeItem(sku: step["sku"]?.string ?? "")
            case "clear_cart": id = try w.clearCart()
            case "set_context": id = try w.setContext(Self.context(substitute(step["context"] ?? .null)))
            case "stop": id = try w.stop()
            case "feedback":
                id = try w.feedback(
                    messageId: substitute(step["message_id"] ?? .null).string ?? "",
                    rating: step["rating"]?.string == "up" ? .up : .down, comment: step["comment"]?.string)
            default: throw TestFailure("unknown step \(step)")
            }
        } catch VizochokError.InvalidArgument {
            return .threw(.obj([("invalid", .bool(true))]))
        } catch VizochokError.Destroyed {
            return .threw(.obj([("destroyed", .bool(true))]))
        }
        return .id(id)
    }

    /// The normalized outcome of a call, if any; names an accepted id. `refused`: the code of an `onError` it caused.
    private func outcome(_ step: J, _ result: Outcome, refused: String?) -> J? {
        switch result {
        case .done: return nil
        case .threw(let value): return value
        case .id(let id?):
            if let name = step["as"]?.string {
                names[name] = id
                ids[id] = "$" + name
            }
            return nil
        case .id(nil):
            if step["do"]?.string == "stop" && refused == nil { return .obj([("stopped", .null)]) }
            return .obj([("rejected", refused.map(J.str) ?? .null)])
        }
    }

    static func errorCode(_ output: J) -> String? {
        output["on"]?.string == "error" ? output["data"]?["code"]?.string : nil
    }

    private func substitute(_ v: J) -> J {
        switch v {
        case let .str(s) where s.hasPrefix("$"): return .str(names[String(s.dropFirst())] ?? s)
        case let .arr(a): return .arr(a.map(substitute))
        case let .obj(o): return .obj(o.map { ($0.0, substitute($0.1)) })
        default: return v
        }
    }

    private func unsubstitute(_ v: J) -> J {
        switch v {
        case let .str(s): return .str(ids[s] ?? s)
        case let .arr(a): return .arr(a.map(unsubstitute))
        case let .obj(o): return .obj(o.map { ($0.0, unsubstitute($0.1)) })
        default: return v
        }
    }

    /// An event reached the app: record it, then throw or call as the scenario says.
    private func record(_ callback: String, _ output: J) throws {
        out.append(output)
        if let code = Self.errorCode(output), let at = rejection {
            out[at] = .obj([("rejected", .str(code))])
            rejection = nil
        }
        if throwing.contains(callback) { throw TestFailure("the app's callback threw") }
        guard let then = calls.removeValue(forKey: callback) else { return }
        if let value = outcome(then, try call(then), refused: nil) {
            out.append(value)
            if value["rejected"] != nil { rejection = out.count - 1 }
        }
    }

    private func callbacks() -> VizochokCallbacks {
        VizochokCallbacks(
            onCartChanged: { [unowned self] in try record("cart_changed", .obj([("on", .str("cart_changed")), ("data", Self.cartChanged($0))])) },
            onProductClick: { [unowned self] in try record("product_click", .obj([("on", .str("product_click")), ("data", Self.product($0))])) },
            onSessionComplete: { [unowned self] in try record("session_complete", .obj([("on", .str("session_complete")), ("data", Self.summary($0))])) },
            onError: { [unowned self] in try record("error", .obj([("on", .str("error")), ("data", Self.error($0))])) },
            onConnect: { [unowned self] in try record("connect", .obj([("on", .str("connect"))])) },
            onDisconnect: { [unowned self] in try record("disconnect", .obj([("on", .str("disconnect"))])) },
            onMessage: { [unowned self] in try record("message", ui($0)) },
            onStateChange: { [unowned self] in try record("state", .obj([("state", .str(snake($0)))])) })
    }

    private func ui(_ event: Event) -> J {
        func message(_ kind: String, _ data: J) -> J { .obj([("ui", .str(kind)), ("data", data)]) }
        switch event {
        case let .typing(replyTo): return message("typing", .obj(replyTo.map { [("reply_to", .str($0))] } ?? []))
        case let .delta(messageId, replyTo, text):
            return message("delta", .obj([("message_id", .str(messageId)), ("reply_to", .str(replyTo)), ("text", .str(text))]))
        case let .response(reply): return message("response", response(reply))
        case let .userMessage(id, text): return message("user_message", .obj([("id", .str(id)), ("text", .str(text))]))
        case let .history(entries): return message("history", .arr(entries.map(Self.history)))
        case let .acknowledged(id): return message("ack", .obj([("id", .str(id))]))
        default: return .str("not a UI event: \(event)")
        }
    }

    private func response(_ r: Reply) -> J {
        var o: [(String, J)] = [("message_id", .str(r.messageId)), ("reply_to", .str(r.replyTo)), ("text", .str(r.text)),
                                ("products", .arr(r.products.map(Self.product)))]
        if r.cancelled { o.append(("cancelled", .bool(true))) }
        if !r.suggestions.isEmpty { o.append(("suggestions", .arr(r.suggestions.map(J.str)))) }
        if observe.contains("blocks") { o.append(("blocks", .arr(r.blocks.map(Self.block)))) }
        return .obj(o)
    }

    // ----- normalized forms ---------------------------------------------------

    static func opt(_ v: Double?) -> J { v.map(J.num) ?? .null }
    static func opt(_ v: String?) -> J { v.map(J.str) ?? .null }

    static func error(_ e: WidgetError) -> J {
        .obj([("code", .str(snake(e.code)))] + (e.replyTo.map { [("reply_to", .str($0))] } ?? []))
    }

    static func item(_ i: CartItem) -> J {
        .obj([("sku", .str(i.sku)), ("name", .str(i.name)), ("price", .num(i.price)), ("promo_price", opt(i.promoPrice)),
              ("brand", opt(i.brand)), ("quantity", .num(i.quantity))])
    }

    static func product(_ p: ProductItem) -> J {
        var o: [(String, J)] = [("sku", .str(p.sku)), ("name", .str(p.name)), ("price", .num(p.price)),
                                ("unit", .str(p.unit)), ("quantity_step", .num(p.quantityStep))]
        if let q = p.quantity { o.append(("quantity", .num(q))) }
        return .obj(o + [("brand", opt(p.brand)), ("image_url", opt(p.imageUrl)), ("promo_price", opt(p.promoPrice))])
    }

    static func product(_ j: J) throws -> ProductItem {
        guard let sku = j["sku"]?.string, let name = j["name"]?.string, let price = j["price"]?.number,
              let unit = j["unit"]?.string, let step = j["quantity_step"]?.number
        else { throw TestFailure("bad product \(j)") }
        return ProductItem(sku: sku, name: name, price: price, unit: unit, quantityStep: step,
                           quantity: j["quantity"]?.number, brand: j["brand"]?.string,
                           imageUrl: j["image_url"]?.string, promoPrice: j["promo_price"]?.number)
    }

    static func context(_ j: J) -> PageContext {
        PageContext(page: j["page"].map { PageInfo(url: $0["url"]?.string, title: $0["title"]?.string) },
                    sku: j["sku"]?.string, category: j["category"]?.string, query: j["query"]?.string,
                    locale: j["locale"]?.string, currency: j["currency"]?.string)
    }

    static func summary(_ s: SessionSummary) -> J {
        .obj([("selected_items", .arr(s.selectedItems.map(item))), ("total", .num(s.total)),
              ("item_count", .num(Double(s.itemCount)))])
    }

    static func cartChanged(_ e: CartChangedEvent) -> J {
        var o: [(String, J)] = [("action", .str(snake(e.action)))]
        if let v = e.sku { o.append(("sku", .str(v))) }
        if let v = e.name { o.append(("name", .str(v))) }
        if let v = e.quantity { o.append(("quantity", .num(v))) }
        if let v = e.price { o.append(("price", .num(v))) }
        return .obj(o + [("items", .arr(e.items.map(item))), ("total", .num(e.total))])
    }

    static func history(_ h: HistoryEntry) -> J {
        var o: [(String, J)] = [("role", .str(snake(h.role))), ("text", .str(h.text))]
        if let ps = h.products { o.append(("products", .arr(ps.map(product)))) }
        if let id = h.messageId { o.append(("message_id", .str(id))) }
        if let r = h.rating { o.append(("rating", .str(snake(r)))) }
        return .obj(o)
    }

    static func block(_ b: Block) -> J {
        var o: [(String, J)] = [("kind", .str(snake(b.kind)))]
        if let n = b.number { o.append(("number", .num(Double(n)))) }
        let spans: [J] = b.spans.map { s in
            .obj([("text", .str(s.text)), ("bold", .bool(s.bold)), ("italic", .bool(s.italic))]
                + (s.link.map { [("link", .str($0))] } ?? []))
        }
        return .obj(o + [("spans", .arr(spans))])
    }

    /// `expected` matches `actual`: `"*"` matches anything, numbers compare as numbers.
    static func matches(_ expected: J, _ actual: J) -> Bool {
        switch (expected, actual) {
        case (.str("*"), _): return true
        case let (.arr(a), .arr(b)): return a.count == b.count && zip(a, b).allSatisfy { matches($0, $1) }
        case let (.obj(a), .obj(b)):
            return a.count == b.count && a.allSatisfy { k, v in b.first { $0.0 == k }.map { matches(v, $0.1) } ?? false }
        default: return expected == actual
        }
    }

    /// Replays one file; its step count, or throws with the first mismatch.
    static func run(file: URL) throws -> Int {
        let scenario = try J.parse(String(contentsOf: file, encoding: .utf8))
        let name = scenario["name"]?.string ?? "?"
        guard let covers = scenario["covers"]?.array, !covers.isEmpty else { throw TestFailure("covers is empty") }
        let rig = try ScenarioRig(scenario)
        let log = VizochokLog.sink
        VizochokLog.sink = { [unowned rig] _ in rig.out.append(.obj([("log", .str("error"))])) }
        defer {
            VizochokLog.sink = log
            rig.release()
        }
        let steps = scenario["steps"]?.array ?? []
        for (i, step) in steps.enumerated() {
            let actual = J.arr(try rig.step(step))
            let expected = step["expect"] ?? .null
            if !matches(expected, actual) {
                throw TestFailure("\(name)\n  step \(i): \(step)\n  expected: \(expected)\n  actual:   \(actual)")
            }
        }
        return steps.count
    }
}

/// An enum case as the wire spells it: `authError` → `auth_error`.
func snake(_ value: Any) -> String {
    String(describing: value).unicodeScalars.reduce(into: "") { out, c in
        if CharacterSet.uppercaseLetters.contains(c) { out += "_" + String(c).lowercased() } else { out.unicodeScalars.append(c) }
    }
}

/// The network, the clock, the timer and the seed, played by the rig.
private final class Scripted: Transport, @unchecked Sendable {
    private unowned let rig: ScenarioRig
    private let seedValue: UInt64
    init(_ rig: ScenarioRig, seed: UInt64) { (self.rig, seedValue) = (rig, seed) }

    func now() -> UInt64 { rig.now }
    func open(socket: UInt64, url: String, reports: Reports) {
        rig.socket = (socket, reports)
        rig.out.append(.obj([("open", .bool(true))]))
    }
    func send(socket: UInt64, text: String) { rig.out.append(.obj([("send", (try? J.parse(text)) ?? .str(text))])) }
    func close(socket: UInt64, code: UInt16, reason: String) { rig.out.append(.obj([("close", .num(Double(code)))])) }
    func setTimer(deadline: UInt64?, reports: Reports) {
        rig.timer = reports
        rig.armed = deadline
        if rig.observe.contains("timer") { rig.out.append(.obj([("timer", deadline.map { .num(Double($0)) } ?? .null)])) }
    }
    func seed() -> UInt64 { seedValue }
}

/// The app's session store: it hands back the scenario's saved id and records what is saved.
private final class Store: SessionStore, @unchecked Sendable {
    private unowned let rig: ScenarioRig
    private let saved: String?
    init(_ rig: ScenarioRig, saved: String?) { (self.rig, self.saved) = (rig, saved) }

    func load() -> String? { saved }
    func save(sessionId: String?) {
        if rig.observe.contains("save") { rig.out.append(.obj([("save", sessionId.map(J.str) ?? .null)])) }
    }
}
