package com.vizochok

import com.vizochok.core.Event
import com.vizochok.core.PendingAction
import com.vizochok.core.State
import com.vizochok.proto.Block
import com.vizochok.proto.Cart
import com.vizochok.proto.CartChangedEvent
import com.vizochok.proto.PageContext
import com.vizochok.proto.ProductItem
import com.vizochok.proto.Rating
import com.vizochok.proto.Reply
import com.vizochok.proto.SessionSummary
import com.vizochok.proto.WidgetError
import java.lang.ref.WeakReference
import java.security.SecureRandom
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicBoolean
import java.util.logging.Logger
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.onSubscription
import kotlinx.coroutines.flow.transformWhile
import kotlinx.coroutines.launch
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.Response
import okhttp3.WebSocket
import okhttp3.WebSocketListener
import okio.ByteString

/**
 * The app's callbacks: the six of the contract, then [onMessage] (typing,
 * streamed chunks, replies, another device's messages, history,
 * acknowledgements) and [onStateChange]. Each does nothing unless
 * overridden. They run one at a time, in order: on the calling thread for
 * what a call causes, on OkHttp's or the timer's thread for the rest, never
 * on Android's main thread by themselves. A callback that throws is logged
 * (`java.util.logging`, logger `com.vizochok`) and the widget carries on.
 */
interface Callbacks {
    fun onCartChanged(cart: CartChangedEvent) {}
    fun onProductClick(product: ProductItem) {}
    fun onSessionComplete(summary: SessionSummary) {}
    fun onError(error: WidgetError) {}
    fun onConnect() {}
    fun onDisconnect() {}
    fun onMessage(event: Event) {}
    fun onStateChange(state: State) {}
}

/** Where the session id is kept between runs of the app: all there is to keep to resume. */
interface SessionStore {
    /** The id an earlier run saved, if any. */
    fun load(): String?

    /** Keep [sessionId] (`null`: forget it, after a reset). */
    fun save(sessionId: String?)
}

/**
 * The widget's I/O: sockets, a monotonic clock in milliseconds, one timer and
 * a secure random seed. [OkHttpTransport] is the real one; tests script one.
 * The widget calls it one call at a time; it reports through [Reports]. A
 * call that throws is logged (by class) and the widget carries on.
 */
interface Transport {
    fun now(): ULong

    fun open(socket: ULong, url: String, reports: Reports)

    fun send(socket: ULong, text: String)

    /** Close [socket] (or abandon it while it opens); what it reports later is ignored. */
    fun close(socket: ULong, code: Int, reason: String)

    /** Call [Reports.timerFired] at [deadline] (the clock of [now]); `null` cancels. Replaces the timer before. */
    fun setTimer(deadline: ULong?, reports: Reports)

    /** 64 bits from a secure random source: they seed action ids and backoff jitter. */
    fun seed(): ULong = SecureRandom().nextLong().toULong()
}

/** How a [Transport] tells the widget what happened; once the widget is gone, reports go nowhere. */
class Reports internal constructor(driver: WidgetDriver, private val clock: Transport) {
    private val driver = WeakReference(driver)

    private fun report(input: WidgetDriver.(ULong) -> Unit) {
        driver.get()?.input(clock.now())
    }

    fun opened(socket: ULong) = report { socketOpened(it, socket) }

    fun text(socket: ULong, text: String) = report { socketText(it, socket, text) }

    fun binary(socket: ULong, length: Int) = report { socketBinary(it, socket, length.toULong()) }

    /** The socket is gone: its close code as received (`null` without a close frame), the reason or error text. */
    fun ended(socket: ULong, code: Int?, reason: String) =
        report { socketEnded(it, socket, code?.takeIf { c -> c in 0..65535 }?.toUShort(), reason) }

    fun timerFired() = report { timeout(it) }
}

/**
 * A VIZOCHOK shopping-assistant client. The Rust driver runs the protocol and
 * the run loop; this class is its host (docs/hosts.md). Creating it checks
 * the config before any I/O and throws [VizochokException.InvalidConfig].
 * Actions return their id, or `null` when refused (`onError` has fired);
 * a wrong call throws [IllegalArgumentException], an action after [close]
 * [IllegalStateException]. Thread-safe.
 */
class VizochokWidget @JvmOverloads constructor(
    apiKey: String,
    config: VizochokConfig,
    callbacks: Callbacks = object : Callbacks {},
    userToken: String? = null,
    sessionStore: SessionStore? = null,
    private val transport: Transport = OkHttpTransport(),
) : AutoCloseable {
    /** Every event, then `null` once the widget is released: the end of every collection. */
    private val flow = MutableSharedFlow<Event?>(extraBufferCapacity = Int.MAX_VALUE)

    /**
     * Every event, in order, from when collection starts (hot, unbounded per
     * collector); it completes at [close], after the last event, and a
     * collection started after [close] completes at once.
     */
    val events: Flow<Event> = flow
        .onSubscription { if (host.isReleased) emit(null) }
        .transformWhile { event -> event?.let { emit(it) } != null }

    init {
        // Its one timer and its socket numbers are one widget's.
        require((transport as? OkHttpTransport)?.claim() != false) {
            "an OkHttpTransport serves one widget: give each widget its own"
        }
    }

    private val host = Host(callbacks, transport, sessionStore, flow)
    private val driver =
        WidgetDriver(apiKey, userToken, config, sessionStore?.load(), SDK_NAME, transport.seed(), host)

    init {
        host.reports = Reports(driver, transport)
    }

    private fun now() = transport.now()

    /** Start (or resume) connecting; the outcome arrives as `onConnect` / `onError`. */
    fun connect() = driver.connect(now())

    /** Close the socket, keep the conversation and the queue; [connect] resumes. */
    fun disconnect() = driver.disconnect(now())

    /** The network is back (e.g. from `ConnectivityManager`): skip the backoff wait. */
    fun networkOnline() = driver.networkOnline(now())

    /** Close the socket and stop the timer; nothing is called back once this returns. Reads keep the last state. */
    override fun close() = driver.destroy(now())

    fun sendMessage(text: String): String? = act { driver.sendMessage(now(), text) }

    /** "Add" on a card: `onProductClick`, then `select_item` (one `quantityStep` unless told). */
    @JvmOverloads
    fun selectProduct(product: ProductItem, quantity: Double? = null): String? =
        act { driver.selectProduct(now(), product, quantity) }

    fun updateQuantity(sku: String, quantity: Double): String? = act { driver.updateQuantity(now(), sku, quantity) }

    fun removeItem(sku: String): String? = act { driver.removeItem(now(), sku) }

    fun clearCart(): String? = act { driver.clearCart(now()) }

    /** What the shopper looks at; "add this" then means [PageContext.sku]. */
    fun setContext(context: PageContext): String? = act { driver.setContext(now(), context) }

    /** Stop the streaming reply; `null` when nothing streams. */
    fun stop(): String? = act { driver.stop(now()) }

    /** Rate a reply (its `messageId`). */
    @JvmOverloads
    fun feedback(messageId: String, rating: Rating, comment: String? = null): String? =
        act { driver.feedback(now(), messageId, rating, comment) }

    /** Forget the conversation and start a new one. */
    fun reset() = act { driver.reset(now()) }

    /** The language of error texts from now on (a tag: `uk`, `en-GB`, ...). */
    fun setLanguage(language: String) = driver.setLanguage(language)

    val state: State get() = driver.state()
    val cart: Cart get() = driver.cart()

    /** The id that resumes this conversation (a [SessionStore] keeps it for you). */
    val sessionId: String? get() = driver.sessionId()
    val pendingActions: List<PendingAction> get() = driver.pendingActions()

    override fun toString() = "VizochokWidget(state=$state)"

    private inline fun <T> act(call: () -> T): T =
        try {
            call()
        } catch (e: VizochokException.InvalidArgument) {
            throw IllegalArgumentException(e.reason, e)
        } catch (e: VizochokException.Destroyed) {
            throw IllegalStateException("the widget was closed", e)
        }

    private companion object {
        const val SDK_NAME = "vizochok-kotlin"
    }
}

/** The reply's Markdown, parsed for a native UI (paragraphs and list items of styled spans). */
val Reply.blocks: List<Block> get() = markdownBlocks(text)

/** The driver's side of the widget: I/O to the transport, events to the app. */
private class Host(
    callbacks: Callbacks,
    private val transport: Transport,
    store: SessionStore?,
    private val flow: MutableSharedFlow<Event?>,
) : WidgetHost {
    lateinit var reports: Reports

    // The app's objects until release: a closed widget kept (in a ViewModel,
    // say) must not keep them, nor the Activity they hold.
    @Volatile private var callbacks: Callbacks? = callbacks
    @Volatile private var store: SessionStore? = store

    override fun openSocket(socket: ULong, url: String) {
        try {
            transport.open(socket, url, reports)
        } catch (failure: Exception) {
            // A URL the core takes and the transport cannot open (OkHttp: a port
            // above 65535): the socket ends at once, as a socket error.
            reports.ended(socket, null, failure.message ?: failure.javaClass.name)
        }
    }

    override fun sendText(socket: ULong, text: String) = io("send") { transport.send(socket, text) }

    override fun closeSocket(socket: ULong, code: UShort, reason: String) =
        io("close") { transport.close(socket, code.toInt(), reason) }

    override fun setTimer(deadline: ULong?) = io("setTimer") { transport.setTimer(deadline, reports) }

    /**
     * A transport call. One that throws would reach Rust as a panic (an app's
     * call would throw and the driver's queue stay half-run): it is logged and
     * the widget carries on, as with a failing callback.
     */
    private inline fun io(call: String, body: () -> Unit) {
        try {
            body()
        } catch (failure: Exception) {
            // Logged by class only: the message may hold a frame's text.
            log.severe("the transport's $call failed and the widget carried on: ${failure.javaClass.name}")
        }
    }

    override fun saveSession(sessionId: String?) {
        try {
            store?.save(sessionId)
        } catch (failure: Exception) {
            // Logged by class only: an app's message may carry the session id.
            log.severe("the session store failed and the widget carried on: ${failure.javaClass.name}")
        }
    }

    override fun deliver(event: Event) {
        flow.tryEmit(event)
        val callbacks = callbacks ?: return
        try {
            when (event) {
                is Event.Connect -> callbacks.onConnect()
                is Event.Disconnect -> callbacks.onDisconnect()
                is Event.CartChanged -> callbacks.onCartChanged(event.v1)
                is Event.ProductClick -> callbacks.onProductClick(event.v1)
                is Event.SessionComplete -> callbacks.onSessionComplete(event.v1)
                is Event.Error -> callbacks.onError(event.v1)
                is Event.StateChanged -> callbacks.onStateChange(event.v1)
                else -> callbacks.onMessage(event)
            }
        } catch (failure: Throwable) {
            throw CallbackException.Failed(failure.stackTraceToString())
        }
    }

    override fun reportError(message: String) = log.severe(message)

    /** Set before the end of the events is emitted, so no collection misses both. */
    @Volatile var isReleased = false
        private set

    override fun released() {
        callbacks = null
        store = null
        isReleased = true
        flow.tryEmit(null)
    }

    companion object {
        val log: Logger = Logger.getLogger("com.vizochok")
    }
}

/** The default [Transport]: OkHttp's WebSocket, a coroutine timer and `System.nanoTime`. */
class OkHttpTransport(private val client: OkHttpClient = sharedClient) : Transport {
    private val claimed = AtomicBoolean()
    private val origin = System.nanoTime()

    /** Whether no widget had it yet: a transport serves one widget. */
    internal fun claim() = claimed.compareAndSet(false, true)
    private val sockets = ConcurrentHashMap<ULong, Listener>()
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    @Volatile private var timer: Job? = null

    override fun now() = ((System.nanoTime() - origin) / 1_000_000).toULong()

    override fun open(socket: ULong, url: String, reports: Reports) {
        val request = Request.Builder().url(url).build()
        // In the map before OkHttp starts: a failure that comes at once must find it to remove it.
        val listener = Listener(socket, reports).also { sockets[socket] = it }
        listener.webSocket = client.newWebSocket(request, listener)
    }

    override fun send(socket: ULong, text: String) {
        sockets[socket]?.webSocket?.send(text)
    }

    override fun close(socket: ULong, code: Int, reason: String) {
        val listener = sockets.remove(socket) ?: return
        // OkHttp's close() only queues a close frame, sent once the upgrade
        // completes; a socket still opening is abandoned instead.
        if (listener.isOpen) listener.webSocket?.close(code, reason) else listener.webSocket?.cancel()
    }

    override fun setTimer(deadline: ULong?, reports: Reports) {
        timer?.cancel()
        timer = deadline?.let { at ->
            scope.launch {
                delay(at.toLong() - now().toLong())
                reports.timerFired()
            }
        }
    }

    private inner class Listener(private val socket: ULong, private val reports: Reports) : WebSocketListener() {
        @Volatile var webSocket: WebSocket? = null

        @Volatile var isOpen = false
            private set

        override fun onOpen(webSocket: WebSocket, response: Response) {
            isOpen = true
            reports.opened(socket)
        }

        override fun onMessage(webSocket: WebSocket, text: String) = reports.text(socket, text)

        override fun onMessage(webSocket: WebSocket, bytes: ByteString) = reports.binary(socket, bytes.size)

        override fun onClosing(webSocket: WebSocket, code: Int, reason: String) {
            sockets.remove(socket, this)
            webSocket.close(1000, null) // completes the closing handshake
            reports.ended(socket, code, reason)
        }

        override fun onFailure(webSocket: WebSocket, t: Throwable, response: Response?) {
            sockets.remove(socket, this)
            reports.ended(socket, null, t.toString())
        }
    }

    private companion object {
        val sharedClient: OkHttpClient by lazy { OkHttpClient() }
    }
}
