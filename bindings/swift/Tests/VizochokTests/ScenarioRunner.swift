import Foundation
import Vizochok

/// Replays one scenario file (docs/scenarios.md) through the public
/// `VizochokSession`: its transport and listener record normalized outputs
/// into one list, in the order the session delivers them.
final class ScenarioRunner: SessionListener, SessionTransport, @unchecked Sendable {
    private var out: [J] = []
    private var now: UInt64 = 0
    private var socket: UInt64 = 0
    private var names: [String: String] = [:]
    private var ids: [String: String] = [:]
    private(set) var session: VizochokSession!

    init(config: J?) throws {
        let seed = UInt64(config?["seed"]?.number ?? 1)
        let cfg = VizochokConfig(
            storeId: "scenario-store", url: "ws://127.0.0.1:8787/v1/ws",
            userId: config?["user_id"]?.string, language: config?["language"]?.string ?? "en",
            sessionId: config?["session_id"]?.string, lastSeq: UInt64(config?["last_seq"]?.number ?? 0))
        session = try VizochokSession(apiKey: "pk_scenario", config: cfg, seed: seed, listener: self, transport: self)
    }

    /// Breaks the session ↔ runner cycle (the session holds the runner as its listener).
    func release() {
        session.shutdown(nowMs: now)
        session = nil
    }

    func step(_ step: J) throws -> [J] {
        out = []
        if let frame = step["recv"] {
            session.socketText(nowMs: now, socket: socket, text: substitute(frame).description)
        } else if let text = step["recv_text"]?.string {
            session.socketText(nowMs: now, socket: socket, text: text)
        } else if let ms = step["advance"]?.number {
            let target = now + UInt64(ms)
            var fired = 0
            while let deadline = session.pollTimeout(), deadline <= target {
                now = max(now, deadline)
                session.timeout(nowMs: now)
                fired += 1
                if fired > 10_000 { throw failure("poll_timeout stuck at \(deadline)") }
            }
            now = target
        } else if let action = step["do"]?.string {
            try act(action, step)
        } else {
            throw failure("unknown step \(step)")
        }
        return out.map(unsubstitute)
    }

    private func failure(_ text: String) -> TestFailure { TestFailure(text) }

    private func act(_ action: String, _ step: J) throws {
        var id: String?
        do {
            switch action {
            case "connect": session.connect(nowMs: now)
            case "socket_opened": session.socketOpened(nowMs: now, socket: socket)
            case "binary": session.socketBinary(nowMs: now, socket: socket, len: UInt64(step["len"]?.number ?? 0))
            case "socket_closed":
                session.socketClosed(nowMs: now, socket: socket, code: step["code"]?.number.map { UInt16($0) }, reason: "")
            case "socket_error": session.socketError(nowMs: now, socket: socket, detail: "refused")
            case "network_online": session.networkOnline(nowMs: now)
            case "close": session.disconnect(nowMs: now)
            case "destroy": session.shutdown(nowMs: now)
            case "send_message": id = try session.sendMessage(nowMs: now, text: step["text"]?.string ?? "")
            case "select_product":
                id = try session.selectProduct(nowMs: now, product: try Self.product(step["product"] ?? .null),
                                               quantity: step["quantity"]?.number)
            case "update_quantity":
                id = try session.updateQuantity(nowMs: now, sku: step["sku"]?.string ?? "",
                                                quantity: step["quantity"]?.number ?? .nan)
            case "remove_item": id = try session.removeItem(nowMs: now, sku: step["sku"]?.string ?? "")
            case "clear_cart": id = try session.clearCart(nowMs: now)
            case "reset": try session.reset(nowMs: now)
            default: throw failure("unknown action \(action)")
            }
        } catch VizochokError.Rejected(let code, _) {
            out.insert(.obj([("rejected", .str(code))]), at: 0)
        } catch VizochokError.InvalidArgument {
            out.insert(.obj([("invalid", .bool(true))]), at: 0)
        } catch VizochokError.Destroyed {
            out.insert(.obj([("destroyed", .bool(true))]), at: 0)
        }
        if let id, let name = step["as"]?.string {
            names[name] = id
            ids[id] = "$" + name
        }
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

    // ----- transport -----
    func openSocket(socket: UInt64, url: String) {
        self.socket = socket
        out.append(.obj([("open", .bool(true))]))
    }

    func sendText(text: String) {
        out.append(.obj([("send", (try? J.parse(text)) ?? .str("unparsable: \(text)"))]))
    }

    func closeSocket(socket: UInt64, code: UInt16, reason: String) {
        out.append(.obj([("close", .num(Double(code)))]))
    }

    // ----- listener -----
    func onConnect() { out.append(.obj([("on", .str("connect"))])) }
    func onDisconnect() { out.append(.obj([("on", .str("disconnect"))])) }
    func onCartChanged(event: CartChangedEvent) { out.append(.obj([("on", .str("cart_changed")), ("data", Self.cart(event))])) }
    func onProductClick(product: ProductItem) { out.append(.obj([("on", .str("product_click")), ("data", Self.product(product))])) }
    func onSessionComplete(summary: SessionSummary) {
        out.append(.obj([("on", .str("session_complete")), ("data", Self.summary(summary))]))
    }
    func onError(error: WidgetError) {
        var data: [(String, J)] = [("code", .str(error.code))]
        if let r = error.replyTo { data.append(("reply_to", .str(r))) }
        out.append(.obj([("on", .str("error")), ("data", .obj(data))]))
    }
    func onStateChange(state: ConnectionState) { out.append(.obj([("state", .str(Self.name(state)))])) }
    func onMessage(event: MessageEvent) {
        switch event {
        case let .typing(replyTo):
            out.append(.obj([("ui", .str("typing")), ("data", .obj(replyTo.map { [("reply_to", .str($0))] } ?? []))]))
        case let .delta(messageId, replyTo, text):
            out.append(.obj([("ui", .str("delta")), ("data", .obj([
                ("message_id", .str(messageId)), ("reply_to", .str(replyTo)), ("text", .str(text))]))]))
        case let .response(messageId, replyTo, text, products):
            out.append(.obj([("ui", .str("response")), ("data", .obj([
                ("message_id", .str(messageId)), ("reply_to", .str(replyTo)), ("text", .str(text)),
                ("products", .arr(products.map(Self.product)))]))]))
        case let .history(entries):
            out.append(.obj([("ui", .str("history")), ("data", .arr(entries.map(Self.history)))]))
        case let .acknowledged(id):
            out.append(.obj([("ui", .str("ack")), ("data", .obj([("id", .str(id))]))]))
        }
    }

    // ----- normalized forms -----
    static func name(_ state: ConnectionState) -> String {
        switch state {
        case .idle: return "idle"
        case .connecting: return "connecting"
        case .authenticating: return "authenticating"
        case .connected: return "connected"
        case .reconnecting: return "reconnecting"
        case .stopped: return "stopped"
        case .destroyed: return "destroyed"
        }
    }

    static func opt(_ v: Double?) -> J { v.map { .num($0) } ?? .null }
    static func opt(_ v: String?) -> J { v.map { .str($0) } ?? .null }

    static func item(_ i: CartItem) -> J {
        .obj([("sku", .str(i.sku)), ("name", .str(i.name)), ("price", .num(i.price)), ("promo_price", opt(i.promoPrice)),
              ("brand", opt(i.brand)), ("quantity", .num(i.quantity))])
    }

    static func product(_ p: ProductItem) -> J {
        var o: [(String, J)] = [("sku", .str(p.sku)), ("name", .str(p.name)), ("price", .num(p.price)),
                                ("unit", .str(p.unit)), ("quantity_step", .num(p.quantityStep))]
        if let q = p.quantity { o.append(("quantity", .num(q))) }
        o += [("brand", opt(p.brand)), ("image_url", opt(p.imageUrl)), ("promo_price", opt(p.promoPrice))]
        return .obj(o)
    }

    static func product(_ j: J) throws -> ProductItem {
        guard let sku = j["sku"]?.string, let name = j["name"]?.string, let price = j["price"]?.number,
              let unit = j["unit"]?.string, let step = j["quantity_step"]?.number
        else { throw TestFailure("bad product \(j)") }
        return ProductItem(sku: sku, name: name, price: price, unit: unit, quantityStep: step,
                           quantity: j["quantity"]?.number, brand: j["brand"]?.string,
                           imageUrl: j["image_url"]?.string, promoPrice: j["promo_price"]?.number)
    }

    static func summary(_ s: SessionSummary) -> J {
        .obj([("selected_items", .arr(s.selectedItems.map(item))), ("total", .num(s.total)),
              ("item_count", .num(Double(s.itemCount)))])
    }

    static func cart(_ e: CartChangedEvent) -> J {
        var o: [(String, J)] = [("action", .str(e.action))]
        if let v = e.sku { o.append(("sku", .str(v))) }
        if let v = e.name { o.append(("name", .str(v))) }
        if let v = e.quantity { o.append(("quantity", .num(v))) }
        if let v = e.price { o.append(("price", .num(v))) }
        o += [("items", .arr(e.items.map(item))), ("total", .num(e.total))]
        return .obj(o)
    }

    static func history(_ h: HistoryEntry) -> J {
        var o: [(String, J)] = [("role", .str(h.role == .user ? "user" : "assistant")), ("text", .str(h.text))]
        if let ps = h.products { o.append(("products", .arr(ps.map(product)))) }
        return .obj(o)
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

    /// Replays one file; returns its step count or throws with the first mismatch.
    static func run(file: URL) throws -> Int {
        let scenario = try J.parse(String(contentsOf: file, encoding: .utf8))
        let name = scenario["name"]?.string ?? "?"
        guard let covers = scenario["covers"]?.array, !covers.isEmpty else {
            throw TestFailure("covers is empty")
        }
        let runner = try ScenarioRunner(config: scenario["config"])
        defer { runner.release() }
        let steps = scenario["steps"]?.array ?? []
        for (i, step) in steps.enumerated() {
            let actual = J.arr(try runner.step(step))
            let expected = step["expect"] ?? .null
            if !matches(expected, actual) {
                throw TestFailure("\(name)\n  step \(i): \(step)\n  expected: \(expected)\n  actual:   \(actual)")
            }
        }
        return steps.count
    }
}
