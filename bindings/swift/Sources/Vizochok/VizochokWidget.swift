import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The six callbacks of the VIZOCHOK contract, plus the chat UI events, as
/// closures. Leave any of them `nil`.
///
/// Callbacks run on a background queue (the widget's own serial queue or
/// URLSession's delegate queue), never on the main thread. Hop to it before
/// touching UI: `Task { @MainActor in … }` or `DispatchQueue.main.async { … }`.
public struct VizochokCallbacks: Sendable {
    /// The cart changed; `items` is always the whole cart.
    public var onCartChanged: (@Sendable (CartChangedEvent) -> Void)?
    /// The shopper pressed "Add" on a product card (informational).
    public var onProductClick: (@Sendable (ProductItem) -> Void)?
    /// A reply came with a session summary, or a session was restored.
    public var onSessionComplete: (@Sendable (SessionSummary) -> Void)?
    /// Any error, from the server or the client; `message` is localized.
    public var onError: (@Sendable (WidgetError) -> Void)?
    /// Authenticated and ready.
    public var onConnect: (@Sendable () -> Void)?
    /// A ready connection is gone (the widget reconnects unless the failure is final).
    public var onDisconnect: (@Sendable () -> Void)?
    /// A chat UI event: typing, a streamed chunk, a whole reply, a history, an acknowledgement.
    public var onMessage: (@Sendable (MessageEvent) -> Void)?
    /// The connection state changed.
    public var onStateChange: (@Sendable (ConnectionState) -> Void)?

    public init(
        onCartChanged: (@Sendable (CartChangedEvent) -> Void)? = nil,
        onProductClick: (@Sendable (ProductItem) -> Void)? = nil,
        onSessionComplete: (@Sendable (SessionSummary) -> Void)? = nil,
        onError: (@Sendable (WidgetError) -> Void)? = nil,
        onConnect: (@Sendable () -> Void)? = nil,
        onDisconnect: (@Sendable () -> Void)? = nil,
        onMessage: (@Sendable (MessageEvent) -> Void)? = nil,
        onStateChange: (@Sendable (ConnectionState) -> Void)? = nil
    ) {
        self.onCartChanged = onCartChanged
        self.onProductClick = onProductClick
        self.onSessionComplete = onSessionComplete
        self.onError = onError
        self.onConnect = onConnect
        self.onDisconnect = onDisconnect
        self.onMessage = onMessage
        self.onStateChange = onStateChange
    }
}

/// Everything the widget reports, as one type for `VizochokWidget.events()`.
public enum WidgetEvent: Equatable, Sendable {
    case connect
    case disconnect
    case cartChanged(CartChangedEvent)
    case productClick(ProductItem)
    case sessionComplete(SessionSummary)
    case error(WidgetError)
    case stateChanged(ConnectionState)
    case message(MessageEvent)
}


/// A VIZOCHOK shopping-assistant client over `URLSessionWebSocketTask`.
///
/// The Rust core (`VizochokSession`) holds every protocol rule: reconnects,
/// heartbeats, the action queue, resends. This class only opens and closes
/// sockets when the core asks, passes frames both ways and arms one timer.
///
/// Thread-safe. Release it with `close()`: the socket closes, the timer
/// stops, every `events()` stream finishes and the native session is freed
/// when the widget is dropped. Nothing is called back after `close()` returns.
public final class VizochokWidget: @unchecked Sendable, CustomStringConvertible {
    private let callbacks: VizochokCallbacks
    private let queue = DispatchQueue(label: "com.vizochok.widget")
    private let lock = NSLock()
    private let origin = DispatchTime.now().uptimeNanoseconds
    private var session: VizochokSession!
    private var urlSession: URLSession!
    private let bridge = Bridge()
    private var sockets: [UInt64: Connection] = [:]
    private var current: Connection?
    private var timer: DispatchWorkItem?
    private var closed = false
    private var streams: [UUID: AsyncStream<WidgetEvent>.Continuation] = [:]

    /// Creates an idle widget; throws `VizochokError.InvalidConfig` for a bad
    /// URL, a plain `ws://` to a non-loopback host, or a missing store id.
    public init(apiKey: String, config: VizochokConfig, callbacks: VizochokCallbacks = VizochokCallbacks()) throws {
        self.callbacks = callbacks
        let delegateQueue = OperationQueue()
        delegateQueue.maxConcurrentOperationCount = 1
        bridge.widget = self
        urlSession = URLSession(configuration: .default, delegate: bridge, delegateQueue: delegateQueue)
        // The core is seeded from the system's secure random source.
        session = try VizochokSession(
            apiKey: apiKey, config: config, seed: UInt64.random(in: .min ... .max),
            listener: Listener(self), transport: Transport(self))
    }

    deinit {
        urlSession?.invalidateAndCancel()
    }

    /// Milliseconds of a monotonic clock (the core never reads a clock itself).
    private func now() -> UInt64 {
        (DispatchTime.now().uptimeNanoseconds - origin) / 1_000_000
    }

    private func isClosed() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return closed
    }

    /// Runs `body` on the session, then re-arms the timer for the core's next deadline.
    private func drive<T>(_ body: (VizochokSession) throws -> T) throws -> T {
        if isClosed() { throw VizochokError.Destroyed }
        defer { rearm() }
        return try body(session)
    }

    private func feed(_ body: (VizochokSession) -> Void) {
        _ = try? drive(body)
    }

    private func rearm() {
        lock.lock()
        defer { lock.unlock() }
        timer?.cancel()
        timer = nil
        guard !closed, let deadline = session.pollTimeout() else { return }
        let wait = deadline > now() ? deadline - now() : 0
        let item = DispatchWorkItem { [weak self] in
            guard let self else { return }
            self.feed { $0.timeout(nowMs: self.now()) }
        }
        timer = item
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(min(wait, 86_400_000))), execute: item)
    }

    // ----- the app's API -----

    /// Every event from now on, for a UI. Each call returns a new stream;
    /// it finishes when the widget is closed. Unbounded: nothing is dropped.
    public func events() -> AsyncStream<WidgetEvent> {
        let (stream, continuation) = AsyncStream<WidgetEvent>.makeStream(bufferingPolicy: .unbounded)
        let id = UUID()
        lock.lock()
        if closed {
            lock.unlock()
            continuation.finish()
            return stream
        }
        streams[id] = continuation
        lock.unlock()
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            self.lock.lock()
            self.streams[id] = nil
            self.lock.unlock()
        }
        return stream
    }

    /// Connects (and keeps reconnecting per the protocol until the failure is final).
    public func connect() throws { try drive { $0.connect(nowMs: now()) } }

    /// Closes the connection but keeps the conversation; `connect()` resumes it.
    public func disconnect() throws { try drive { $0.disconnect(nowMs: now()) } }

    /// The network is back (e.g. from NWPathMonitor): skip the current backoff wait.
    public func networkOnline() throws { try drive { $0.networkOnline(nowMs: now()) } }

    /// Sends a chat message; returns its action id.
    @discardableResult
    public func sendMessage(_ text: String) throws -> String { try drive { try $0.sendMessage(nowMs: now(), text: text) } }

    /// The shopper pressed "Add" on `product`; fires `onProductClick`.
    @discardableResult
    public func selectProduct(_ product: ProductItem, quantity: Double? = nil) throws -> String {
        try drive { try $0.selectProduct(nowMs: now(), product: product, quantity: quantity) }
    }

    /// Sets the quantity of a cart line.
    @discardableResult
    public func updateQuantity(sku: String, quantity: Double) throws -> String {
        try drive { try $0.updateQuantity(nowMs: now(), sku: sku, quantity: quantity) }
    }

    /// Removes a cart line.
    @discardableResult
    public func removeItem(sku: String) throws -> String { try drive { try $0.removeItem(nowMs: now(), sku: sku) } }

    /// Empties the cart.
    @discardableResult
    public func clearCart() throws -> String { try drive { try $0.clearCart(nowMs: now()) } }

    /// Forgets the conversation and starts a new one.
    public func reset() throws { try drive { try $0.reset(nowMs: now()) } }

    /// The connection state.
    public var state: ConnectionState { isClosed() ? .destroyed : session.state() }
    /// The cart as last confirmed by the server.
    public var cart: Cart { isClosed() ? Cart(items: [], total: 0) : session.cart() }
    /// The session id: keep it with `lastSeq` to resume after the app restarts.
    public var sessionId: String? { isClosed() ? nil : session.sessionId() }
    /// The last server `seq` applied.
    public var lastSeq: UInt64 { isClosed() ? 0 : session.lastSeq() }
    /// Accepted actions that have not ended.
    public var pendingActions: [PendingAction] { isClosed() ? [] : session.pendingActions() }

    /// Releases everything now: closes the socket, stops the timer, finishes
    /// every `events()` stream. Idempotent.
    public func close() {
        lock.lock()
        if closed {
            lock.unlock()
            return
        }
        timer?.cancel()
        timer = nil
        lock.unlock()
        // The last events (disconnect, destroyed) are delivered before shutdown returns.
        session.shutdown(nowMs: now())
        lock.lock()
        closed = true
        let open = Array(sockets.values)
        sockets.removeAll()
        current = nil
        let finished = Array(streams.values)
        streams.removeAll()
        lock.unlock()
        open.forEach { $0.close(code: .goingAway, reason: nil) }
        finished.forEach { $0.finish() }
        urlSession.invalidateAndCancel()
        bridge.widget = nil
    }

    public var description: String { "VizochokWidget(state: \(state))" }

    // ----- what the core asks for -----

    fileprivate func open(socket: UInt64, url: String) {
        guard let target = URL(string: url) else {
            queue.async { [weak self] in
                guard let self else { return }
                self.feed { $0.socketError(nowMs: self.now(), socket: socket, detail: "bad URL") }
            }
            return
        }
        var request = URLRequest(url: target)
        #if canImport(FoundationNetworking)
        // swift-corelibs-foundation (Linux) replaces curl's `Connection: Upgrade`
        // with `keep-alive`, and servers then refuse the upgrade (400).
        request.setValue("Upgrade", forHTTPHeaderField: "Connection")
        #endif
        let conn = Connection(task: urlSession.webSocketTask(with: request))
        lock.lock()
        sockets[socket] = conn
        current = conn
        lock.unlock()
        bridge.register(task: conn.task, socket: socket)
        conn.task.resume()
        conn.start { [weak self] message in
            guard let self else { return }
            switch message {
            case .string(let text): self.feed { $0.socketText(nowMs: self.now(), socket: socket, text: text) }
            case .data(let data): self.feed { $0.socketBinary(nowMs: self.now(), socket: socket, len: UInt64(data.count)) }
            @unknown default: break
            }
        } failed: { [weak self] error in
            self?.ended(socket: socket, task: conn.task, error: error)
        }
    }

    fileprivate func send(text: String) {
        lock.lock()
        let conn = current
        lock.unlock()
        conn?.send(text)  // a failed send surfaces as a receive failure
    }

    fileprivate func close(socket: UInt64, code: UInt16, reason: String) {
        lock.lock()
        let conn = sockets.removeValue(forKey: socket)
        if conn === current { current = nil }
        lock.unlock()
        let closeCode = URLSessionWebSocketTask.CloseCode(rawValue: Int(code)) ?? .normalClosure
        conn?.close(code: closeCode, reason: reason.data(using: .utf8))
    }

    fileprivate func opened(socket: UInt64) {
        feed { $0.socketOpened(nowMs: now(), socket: socket) }
    }

    /// The socket is gone: a close frame with a code, or a failure.
    fileprivate func ended(socket: UInt64, task: URLSessionWebSocketTask, error: Error?) {
        guard bridge.finish(task: task) else { return }
        #if canImport(FoundationNetworking)
        // swift-corelibs-foundation reports codes that were never sent (a 4001
        // close reads 1003, a cut reads 1000): report "no code" instead.
        let code = 0
        #else
        let code = task.closeCode.rawValue
        #endif
        if code != 0 && code != 1005 && code != 1006 {
            let reason = task.closeReason.flatMap { String(data: $0, encoding: .utf8) } ?? ""
            feed { $0.socketClosed(nowMs: now(), socket: socket, code: UInt16(clamping: code), reason: reason) }
        } else if let error {
            feed { $0.socketError(nowMs: now(), socket: socket, detail: "\(type(of: error)) \((error as NSError).code)") }
        } else {
            feed { $0.socketClosed(nowMs: now(), socket: socket, code: nil, reason: "") }
        }
    }

    fileprivate func emit(_ event: WidgetEvent) {
        lock.lock()
        let targets = Array(streams.values)
        lock.unlock()
        targets.forEach { $0.yield(event) }
        let c = callbacks
        switch event {
        case .connect: c.onConnect?()
        case .disconnect: c.onDisconnect?()
        case .cartChanged(let e): c.onCartChanged?(e)
        case .productClick(let p): c.onProductClick?(p)
        case .sessionComplete(let s): c.onSessionComplete?(s)
        case .error(let e): c.onError?(e)
        case .stateChanged(let s): c.onStateChange?(s)
        case .message(let m): c.onMessage?(m)
        }
    }
}

/// One WebSocket: frames go out in order through one sending task; one
/// receiving task reads until the socket fails or closes.
private final class Connection: @unchecked Sendable {
    let task: URLSessionWebSocketTask
    private let outgoing: AsyncStream<String>
    private let sink: AsyncStream<String>.Continuation
    private var workers: [Task<Void, Never>] = []

    init(task: URLSessionWebSocketTask) {
        self.task = task
        (outgoing, sink) = AsyncStream<String>.makeStream(bufferingPolicy: .unbounded)
    }

    func start(received: @escaping @Sendable (URLSessionWebSocketTask.Message) -> Void,
               failed: @escaping @Sendable (Error) -> Void) {
        let task = self.task
        let outgoing = self.outgoing
        workers.append(Task {
            for await text in outgoing {
                do { try await task.send(.string(text)) } catch { return }
            }
        })
        workers.append(Task {
            while true {
                do {
                    received(try await task.receive())
                } catch {
                    failed(error)
                    return
                }
            }
        })
    }

    func send(_ text: String) { sink.yield(text) }

    func close(code: URLSessionWebSocketTask.CloseCode, reason: Data?) {
        sink.finish()
        task.cancel(with: code, reason: reason)
    }
}

/// The transport the core drives; holds the widget weakly (no cycle through Rust).
private final class Transport: SessionTransport, @unchecked Sendable {
    weak var widget: VizochokWidget?
    init(_ widget: VizochokWidget) { self.widget = widget }
    func openSocket(socket: UInt64, url: String) { widget?.open(socket: socket, url: url) }
    func sendText(text: String) { widget?.send(text: text) }
    func closeSocket(socket: UInt64, code: UInt16, reason: String) { widget?.close(socket: socket, code: code, reason: reason) }
}

/// The listener the core calls; forwards to the widget's callbacks and streams.
private final class Listener: SessionListener, @unchecked Sendable {
    weak var widget: VizochokWidget?
    init(_ widget: VizochokWidget) { self.widget = widget }
    func onConnect() { widget?.emit(.connect) }
    func onDisconnect() { widget?.emit(.disconnect) }
    func onCartChanged(event: CartChangedEvent) { widget?.emit(.cartChanged(event)) }
    func onProductClick(product: ProductItem) { widget?.emit(.productClick(product)) }
    func onSessionComplete(summary: SessionSummary) { widget?.emit(.sessionComplete(summary)) }
    func onError(error: WidgetError) { widget?.emit(.error(error)) }
    func onStateChange(state: ConnectionState) { widget?.emit(.stateChanged(state)) }
    func onMessage(event: MessageEvent) { widget?.emit(.message(event)) }
}

/// URLSession's delegate: maps tasks to the core's socket ids.
private final class Bridge: NSObject, URLSessionWebSocketDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [ObjectIdentifier: UInt64] = [:]
    private weak var _widget: VizochokWidget?
    var widget: VizochokWidget? {
        get { lock.lock(); defer { lock.unlock() }; return _widget }
        set { lock.lock(); _widget = newValue; lock.unlock() }
    }

    func register(task: URLSessionTask, socket: UInt64) {
        lock.lock()
        ids[ObjectIdentifier(task)] = socket
        lock.unlock()
    }

    private func socket(of task: URLSessionTask) -> UInt64? {
        lock.lock()
        defer { lock.unlock() }
        return ids[ObjectIdentifier(task)]
    }

    /// Whether this is the first end reported for `task`.
    func finish(task: URLSessionTask) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return ids.removeValue(forKey: ObjectIdentifier(task)) != nil
    }

    func urlSession(_ session: URLSession, webSocketTask: URLSessionWebSocketTask, didOpenWithProtocol protocol: String?) {
        if let socket = socket(of: webSocketTask) { widget?.opened(socket: socket) }
    }

    func urlSession(
        _ session: URLSession, webSocketTask: URLSessionWebSocketTask,
        didCloseWith closeCode: URLSessionWebSocketTask.CloseCode, reason: Data?
    ) {
        if let socket = socket(of: webSocketTask) { widget?.ended(socket: socket, task: webSocketTask, error: nil) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        guard let ws = task as? URLSessionWebSocketTask, let socket = socket(of: task) else { return }
        widget?.ended(socket: socket, task: ws, error: error)
    }
}
