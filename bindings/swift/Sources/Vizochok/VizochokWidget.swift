import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The app's callbacks as closures: the six of the contract, then `onMessage`
/// (typing, streamed chunks, replies, another device's messages, history,
/// acknowledgements) and `onStateChange`. Leave any of them `nil`. They run
/// one at a time, in order: on the caller's thread for what a call causes, on
/// the widget's queue for the rest, never on the main thread by themselves.
/// One that throws is written to `VizochokLog` and the widget carries on.
public struct VizochokCallbacks: Sendable {
    public typealias On<Value> = @Sendable (Value) throws -> Void
    public var onCartChanged: On<CartChangedEvent>?, onProductClick: On<ProductItem>?
    public var onSessionComplete: On<SessionSummary>?, onError: On<WidgetError>?
    public var onConnect: (@Sendable () throws -> Void)?, onDisconnect: (@Sendable () throws -> Void)?
    public var onMessage: On<Event>?, onStateChange: On<State>?

    public init(
        onCartChanged: On<CartChangedEvent>? = nil, onProductClick: On<ProductItem>? = nil,
        onSessionComplete: On<SessionSummary>? = nil, onError: On<WidgetError>? = nil,
        onConnect: (@Sendable () throws -> Void)? = nil, onDisconnect: (@Sendable () throws -> Void)? = nil,
        onMessage: On<Event>? = nil, onStateChange: On<State>? = nil
    ) {
        (self.onCartChanged, self.onProductClick, self.onSessionComplete, self.onError) =
            (onCartChanged, onProductClick, onSessionComplete, onError)
        (self.onConnect, self.onDisconnect, self.onMessage, self.onStateChange) =
            (onConnect, onDisconnect, onMessage, onStateChange)
    }
}

/// Where the session id is kept between runs of the app: all there is to keep to resume.
public protocol SessionStore: AnyObject, Sendable {
    func load() -> String?
    /// Keep `sessionId` (`nil`: forget it, after a reset).
    func save(sessionId: String?)
}

/// The widget's I/O: sockets, a monotonic clock in milliseconds, one timer and
/// a secure random seed. `URLSessionTransport` is the real one; tests script
/// one. The widget calls it one call at a time; it reports through `Reports`.
public protocol Transport: AnyObject, Sendable {
    func now() -> UInt64
    func open(socket: UInt64, url: String, reports: Reports)
    func send(socket: UInt64, text: String)
    /// Close `socket` (or abandon it while it opens); what it reports later is ignored.
    func close(socket: UInt64, code: UInt16, reason: String)
    /// Call `reports.timerFired()` at `deadline` (the clock of `now()`); `nil` cancels. Replaces the timer before.
    func setTimer(deadline: UInt64?, reports: Reports)
    /// 64 bits from a secure random source: they seed action ids and backoff jitter.
    func seed() -> UInt64
}

extension Transport {
    public func seed() -> UInt64 { UInt64.random(in: .min ... .max) }  // SystemRandomNumberGenerator
}

/// How a `Transport` tells the widget what happened; once the widget is gone, reports go nowhere.
public final class Reports: @unchecked Sendable {
    private weak var driver: WidgetDriver?
    // Weak: the transport keeps the reports it is handed (a socket's, the
    // timer's), and the widget owns both, so a strong clock would be a cycle.
    private weak var clock: Transport?

    init(driver: WidgetDriver, clock: Transport) { (self.driver, self.clock) = (driver, clock) }

    /// The driver and the time, while the widget lives.
    private func report(_ input: (WidgetDriver, UInt64) -> Void) {
        if let driver, let clock { input(driver, clock.now()) }
    }

    public func opened(socket: UInt64) { report { $0.socketOpened(now: $1, socket: socket) } }
    public func text(socket: UInt64, text: String) { report { $0.socketText(now: $1, socket: socket, text: text) } }
    public func binary(socket: UInt64, length: Int) {
        report { $0.socketBinary(now: $1, socket: socket, len: UInt64(length)) }
    }
    /// The socket is gone: its close code as received (`nil` without a close frame), the reason or error text.
    public func ended(socket: UInt64, code: Int?, reason: String) {
        report { $0.socketEnded(now: $1, socket: socket, code: code.flatMap { UInt16(exactly: $0) }, reason: reason) }
    }
    public func timerFired() { report { $0.timeout(now: $1) } }
}

/// Where the widget writes what it recovered from (a callback that threw),
/// secrets removed: standard error, unless the app sets `sink` (to `os.Logger`, say) before using a widget.
public enum VizochokLog {
    nonisolated(unsafe) public static var sink: @Sendable (String) -> Void = { message in
        FileHandle.standardError.write(Data("vizochok: \(message)\n".utf8))
    }
}

/// A VIZOCHOK shopping-assistant client. The Rust driver runs the protocol and
/// the run loop; this class is its host (docs/hosts.md). Creating it checks the
/// config before any I/O (`VizochokError.InvalidConfig`). Actions return their
/// id, or `nil` when refused (`onError` has fired); a wrong call throws
/// `.InvalidArgument`, an action after `close()` `.Destroyed`. Thread-safe.
public final class VizochokWidget: @unchecked Sendable, CustomStringConvertible {
    private let transport: Transport
    private let host: Host
    private let driver: WidgetDriver

    public init(
        apiKey: String, config: VizochokConfig, callbacks: VizochokCallbacks = VizochokCallbacks(),
        userToken: String? = nil, sessionStore: SessionStore? = nil, transport: Transport = URLSessionTransport()
    ) throws {
        // Its one timer and its socket numbers are one widget's.
        if let real = transport as? URLSessionTransport, !real.claim() {
            throw VizochokError.InvalidArgument(
                reason: "a URLSessionTransport serves one widget: give each widget its own")
        }
        self.transport = transport
        host = Host(callbacks: callbacks, transport: transport, store: sessionStore)
        driver = try WidgetDriver(
            apiKey: apiKey, userToken: userToken, config: config, sessionId: sessionStore?.load(),
            sdkName: "vizochok-swift", seed: transport.seed(), host: host)
        host.reports = Reports(driver: driver, clock: transport)
    }

    private func now() -> UInt64 { transport.now() }

    /// Every event from now on, in order. Each call makes a new stream; it finishes at `close()`.
    public func events() -> AsyncStream<Event> { host.stream() }

    /// Start (or resume) connecting; the outcome arrives as `onConnect` / `onError`.
    public func connect() { driver.connect(now: now()) }
    /// Close the socket, keep the conversation and the queue; `connect()` resumes.
    public func disconnect() { driver.disconnect(now: now()) }
    /// The network is back (e.g. from `NWPathMonitor`): skip the backoff wait.
    public func networkOnline() { driver.networkOnline(now: now()) }
    /// Close the socket, stop the timer, finish the event streams; nothing is
    /// called back once this returns. Reads keep the last state.
    public func close() { driver.destroy(now: now()) }

    @discardableResult public func sendMessage(_ text: String) throws -> String? {
        try driver.sendMessage(now: now(), text: text)
    }
    /// "Add" on a card: `onProductClick`, then `select_item` (one `quantityStep` unless told).
    @discardableResult public func selectProduct(_ product: ProductItem, quantity: Double? = nil) throws -> String? {
        try driver.selectProduct(now: now(), product: product, quantity: quantity)
    }
    @discardableResult public func updateQuantity(sku: String, quantity: Double) throws -> String? {
        try driver.updateQuantity(now: now(), sku: sku, quantity: quantity)
    }
    @discardableResult public func removeItem(sku: String) throws -> String? { try driver.removeItem(now: now(), sku: sku) }
    @discardableResult public func clearCart() throws -> String? { try driver.clearCart(now: now()) }
    /// What the shopper looks at; "add this" then means `context.sku`.
    @discardableResult public func setContext(_ context: PageContext) throws -> String? {
        try driver.setContext(now: now(), context: context)
    }
    /// Stop the streaming reply; `nil` when nothing streams.
    @discardableResult public func stop() throws -> String? { try driver.stop(now: now()) }
    /// Rate a reply (its `messageId`).
    @discardableResult public func feedback(messageId: String, rating: Rating, comment: String? = nil) throws -> String? {
        try driver.feedback(now: now(), messageId: messageId, rating: rating, comment: comment)
    }
    /// Forget the conversation and start a new one.
    public func reset() throws { try driver.reset(now: now()) }
    /// The language of error texts from now on (a tag: `uk`, `en-GB`, ...).
    public func setLanguage(_ language: String) { driver.setLanguage(language: language) }

    public var state: State { driver.state() }
    public var cart: Cart { driver.cart() }
    /// The id that resumes this conversation (a `SessionStore` keeps it for you).
    public var sessionId: String? { driver.sessionId() }
    public var pendingActions: [PendingAction] { driver.pendingActions() }
    public var description: String { "VizochokWidget(state: \(state))" }
}

extension Reply {
    /// The reply's Markdown, parsed for a native UI (paragraphs and list items of styled spans).
    public var blocks: [Block] { markdownBlocks(text: text) }
}

/// The driver's side of the widget: I/O to the transport, events to the app and the streams.
private final class Host: WidgetHost, @unchecked Sendable {
    private let transport: Transport
    var reports: Reports!
    private let lock = NSLock()
    // The app's objects until release, when a closed widget the app keeps
    // lets go of them (and so of what its closures capture), as `invalidate()` does.
    private var callbacks: VizochokCallbacks
    private var store: SessionStore?
    private var streams: [UUID: AsyncStream<Event>.Continuation]? = [:]  // nil once released

    init(callbacks: VizochokCallbacks, transport: Transport, store: SessionStore?) {
        (self.callbacks, self.transport, self.store) = (callbacks, transport, store)
    }

    func openSocket(socket: UInt64, url: String) { transport.open(socket: socket, url: url, reports: reports) }
    func sendText(socket: UInt64, text: String) { transport.send(socket: socket, text: text) }
    func closeSocket(socket: UInt64, code: UInt16, reason: String) { transport.close(socket: socket, code: code, reason: reason) }
    func setTimer(deadline: UInt64?) { transport.setTimer(deadline: deadline, reports: reports) }
    func saveSession(sessionId: String?) { lock.locked { store }?.save(sessionId: sessionId) }
    func reportError(message: String) { VizochokLog.sink(message) }

    func released() {
        let targets = lock.locked { () -> [AsyncStream<Event>.Continuation] in
            let open = streams.map { Array($0.values) } ?? []
            (callbacks, store, streams) = (VizochokCallbacks(), nil, nil)
            return open
        }
        targets.forEach { $0.finish() }
    }

    func deliver(event: Event) throws {
        let (targets, c) = lock.locked { (streams.map { Array($0.values) } ?? [], callbacks) }
        targets.forEach { $0.yield(event) }
        switch event {
        case .connect: try c.onConnect?()
        case .disconnect: try c.onDisconnect?()
        case .cartChanged(let cart): try c.onCartChanged?(cart)
        case .productClick(let product): try c.onProductClick?(product)
        case .sessionComplete(let summary): try c.onSessionComplete?(summary)
        case .error(let error): try c.onError?(error)
        case .stateChanged(let state): try c.onStateChange?(state)
        default: try c.onMessage?(event)
        }
    }

    func stream() -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .unbounded)
        let id = UUID()
        let open = lock.locked { () -> Bool in
            guard streams != nil else { return false }
            streams?[id] = continuation
            return true
        }
        guard open else { continuation.finish(); return stream }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            self.lock.locked { self.streams?[id] = nil }
        }
        return stream
    }
}

/// The default `Transport`: `URLSessionWebSocketTask`, a dispatch timer and
/// the uptime clock. Socket reports and the timer run on one serial queue.
public final class URLSessionTransport: Transport, @unchecked Sendable {
    private let queue: DispatchQueue
    private let origin = DispatchTime.now().uptimeNanoseconds
    private let lock = NSLock()
    // Until they end or are closed, each with the reports it was opened with.
    private var sockets: [UInt64: (task: URLSessionWebSocketTask, sending: Task<Void, Never>?, reports: Reports)] = [:]
    private var timer: DispatchWorkItem?
    private let delegate = Delegate()
    private let session: URLSession
    private var claimed = false

    /// Whether no widget had it yet: a transport serves one widget.
    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        defer { claimed = true }
        return !claimed
    }

    public init() {
        queue = DispatchQueue(label: "com.vizochok.widget")
        let delegates = OperationQueue()
        delegates.underlyingQueue = queue
        session = URLSession(configuration: .default, delegate: delegate, delegateQueue: delegates)
        delegate.transport = self
    }

    deinit { session.invalidateAndCancel() }

    public func now() -> UInt64 { (DispatchTime.now().uptimeNanoseconds - origin) / 1_000_000 }

    public func open(socket: UInt64, url: String, reports: Reports) {
        guard let target = URL(string: url) else { return reports.ended(socket: socket, code: nil, reason: "bad URL") }
        var request = URLRequest(url: target)
        #if canImport(FoundationNetworking)
        // FoundationNetworking replaces curl's `Connection: Upgrade` with `keep-alive`; servers then refuse (400).
        request.setValue("Upgrade", forHTTPHeaderField: "Connection")
        #endif
        let task = session.webSocketTask(with: request)
        task.taskDescription = String(socket)
        #if !canImport(FoundationNetworking)
        // URLSession's default, 1 MiB, would end the socket on a frame the core should drop. FoundationNetworking takes
        // this for curl's receive buffer instead, and raised (10 or 16 MiB) it crashed on a long frame.
        task.maximumMessageSize = Int(maxSocketMessageBytes())
        #endif
        lock.locked { sockets[socket] = (task, nil, reports) }
        task.resume()
        Task { [queue] in
            while let message = try? await task.receive() {  // until it fails: the delegate reports the end
                switch message {
                case .string(let text): queue.async { reports.text(socket: socket, text: text) }
                case .data(let data): queue.async { reports.binary(socket: socket, length: data.count) }
                @unknown default: break
                }
            }
        }
    }

    public func send(socket: UInt64, text: String) {
        // Each send waits for the one before, so frames leave in order; a failed send ends the task.
        lock.locked {
            guard let (task, previous) = sockets[socket].map({ ($0.task, $0.sending) }) else { return }
            sockets[socket]?.sending = Task {
                _ = await previous?.value
                try? await task.send(.string(text))
            }
        }
    }

    public func close(socket: UInt64, code: UInt16, reason: String) {
        let task = lock.locked { sockets.removeValue(forKey: socket)?.task }
        task?.cancel(with: URLSessionWebSocketTask.CloseCode(rawValue: Int(code)) ?? .normalClosure, reason: Data(reason.utf8))
    }

    public func setTimer(deadline: UInt64?, reports: Reports) {
        let item = deadline.map { _ in DispatchWorkItem { reports.timerFired() } }
        lock.locked { timer?.cancel(); timer = item }
        guard let deadline, let item else { return }
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(clamping: deadline - min(deadline, now()))), execute: item)
    }

    fileprivate func opened(_ task: URLSessionTask) {
        guard let socket = task.taskDescription.flatMap(UInt64.init) else { return }
        lock.locked { sockets[socket]?.reports }?.opened(socket: socket)
    }

    /// The task is gone: its close code and reason as the runtime reports them, once.
    fileprivate func ended(_ task: URLSessionTask, code: Int, reason: Data?, error: Error?) {
        guard let socket = task.taskDescription.flatMap(UInt64.init),
              let reports = lock.locked({ sockets.removeValue(forKey: socket)?.reports }) else { return }
        var code: Int? = code
        #if canImport(FoundationNetworking)
        // FoundationNetworking reads a cut as 1000 without a reason; a close frame always has one (maybe empty).
        if reason == nil { code = nil }
        #endif
        let text = reason.flatMap { String(data: $0, encoding: .utf8) } ?? error.map { "\($0)" } ?? ""
        reports.ended(socket: socket, code: code, reason: text)
    }

}

/// URLSession's delegate; holds the transport weakly (a session keeps its delegate until invalidated).
private final class Delegate: NSObject, URLSessionWebSocketDelegate, @unchecked Sendable {
    weak var transport: URLSessionTransport?

    func urlSession(_ session: URLSession, webSocketTask: URLSessionWebSocketTask, didOpenWithProtocol protocol: String?) {
        transport?.opened(webSocketTask)
    }
    func urlSession(
        _ session: URLSession, webSocketTask: URLSessionWebSocketTask,
        didCloseWith closeCode: URLSessionWebSocketTask.CloseCode, reason: Data?
    ) {
        transport?.ended(webSocketTask, code: closeCode.rawValue, reason: reason, error: nil)
    }
    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        guard let socket = task as? URLSessionWebSocketTask else { return }
        transport?.ended(socket, code: socket.closeCode.rawValue, reason: socket.closeReason, error: error)
    }
}

extension NSLock {
    /// `body` with the lock held.
    @discardableResult
    fileprivate func locked<T>(_ body: () -> T) -> T {
        lock()
        defer { unlock() }
        return body()
    }
}
