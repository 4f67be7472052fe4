package com.vizochok

import java.security.SecureRandom
import java.util.concurrent.ConcurrentHashMap
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.launch
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.Response
import okhttp3.WebSocket
import okhttp3.WebSocketListener
import okio.ByteString

/**
 * The six callbacks of the VIZOCHOK contract, plus the chat UI events.
 * Every method has a no-op default: override the ones you need.
 *
 * Callbacks arrive on a background thread (OkHttp's or a timer's), never on
 * Android's main thread. Post to the main thread yourself before touching
 * views (e.g. `runOnUiThread { … }` or `lifecycleScope.launch(Dispatchers.Main)`).
 */
interface Callbacks {
    /** The cart changed; [CartChangedEvent.items] is always the whole cart. */
    fun onCartChanged(cart: CartChangedEvent) {}

    /** The shopper pressed "Add" on a product card (informational). */
    fun onProductClick(product: ProductItem) {}

    /** A reply came with a session summary, or a session was restored. */
    fun onSessionComplete(summary: SessionSummary) {}

    /** Any error, from the server or the client; [WidgetError.message] is localized. */
    fun onError(error: WidgetError) {}

    /** Authenticated and ready. */
    fun onConnect() {}

    /** A ready connection is gone (the widget reconnects by itself unless the failure is final). */
    fun onDisconnect() {}

    /** A chat UI event: typing, a streamed chunk, a whole reply, a history, an acknowledgement. */
    fun onMessage(event: MessageEvent) {}

    /** The connection state changed. */
    fun onStateChange(state: ConnectionState) {}
}

/** Everything the widget reports, as one type for [VizochokWidget.events]. */
sealed interface WidgetEvent {
    data object Connect : WidgetEvent
    data object Disconnect : WidgetEvent
    data class CartChanged(val cart: CartChangedEvent) : WidgetEvent
    data class ProductClick(val product: ProductItem) : WidgetEvent
    data class SessionComplete(val summary: SessionSummary) : WidgetEvent
    data class Error(val error: WidgetError) : WidgetEvent
    data class StateChanged(val state: ConnectionState) : WidgetEvent
    data class Message(val event: MessageEvent) : WidgetEvent
}

/**
 * A VIZOCHOK shopping-assistant client over OkHttp's WebSocket.
 *
 * The Rust core ([VizochokSession]) holds every protocol rule: reconnects,
 * heartbeats, the action queue, resends. This class only opens and closes
 * sockets when the core asks, passes frames both ways and arms one timer.
 *
 * ```
 * val widget = VizochokWidget("pk_your_key", VizochokConfig(storeId = "your-store", url = "wss://…/v1/ws"),
 *     object : Callbacks { override fun onCartChanged(cart: CartChangedEvent) { /* … */ } })
 * widget.connect()
 * widget.sendMessage("milk")
 * widget.close() // when the screen goes away
 * ```
 *
 * Thread-safe: call it from any thread. Release it with [close] (it is
 * [AutoCloseable]): the socket closes, timers stop and the native session is
 * freed at once, not at garbage collection.
 *
 * @throws VizochokException.InvalidConfig for a bad URL, a plain `ws://` to
 *   a non-loopback host, or a missing store id.
 */
class VizochokWidget @JvmOverloads constructor(
    apiKey: String,
    config: VizochokConfig,
    private val callbacks: Callbacks = object : Callbacks {},
    private val client: OkHttpClient = defaultClient,
) : AutoCloseable {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    private val origin = System.nanoTime()
    private val sockets = ConcurrentHashMap<ULong, WebSocket>()
    @Volatile private var current: WebSocket? = null
    private val timerLock = Any()
    private var timer: Job? = null
    @Volatile private var closed = false
    private val flow = MutableSharedFlow<WidgetEvent>(extraBufferCapacity = Int.MAX_VALUE)

    /**
     * Every event, for collectors (a UI). Hot: a collector sees what happens
     * while it collects. Buffered without limit per collector, so nothing is
     * dropped; a collector that never catches up holds memory.
     */
    val events: SharedFlow<WidgetEvent> = flow.asSharedFlow()

    private val session: VizochokSession =
        VizochokSession(apiKey, config, SecureRandom().nextLong().toULong(), Listener(), Transport())

    /** Milliseconds of a monotonic clock (the core never reads a clock itself). */
    private fun now(): ULong = ((System.nanoTime() - origin) / 1_000_000).toULong()

    /** Runs [block] on the session, then re-arms the timer for the core's next deadline. */
    private inline fun <T> drive(block: (VizochokSession) -> T): T {
        if (closed) throw VizochokException.Destroyed()
        try {
            return block(session)
        } finally {
            rearm()
        }
    }

    private fun rearm() {
        synchronized(timerLock) {
            timer?.cancel()
            timer = null
            if (closed) return
            val deadline = session.pollTimeout() ?: return
            timer = scope.launch {
                val wait = deadline.toLong() - now().toLong()
                if (wait > 0) delay(wait)
                if (!closed) {
                    try {
                        session.timeout(now())
                        rearm()
                    } catch (e: IllegalStateException) {
                        // the native session was freed by close() meanwhile
                    }
                }
            }
        }
    }

    // ----- the app's API -----

    /** Connects (and keeps reconnecting per the protocol until the failure is final). */
    fun connect() = drive { it.connect(now()) }

    /** Closes the connection but keeps the conversation; [connect] resumes it. */
    fun disconnect() = drive { it.disconnect(now()) }

    /** The network is back (e.g. from ConnectivityManager): skip the current backoff wait. */
    fun networkOnline() = drive { it.networkOnline(now()) }

    /** Sends a chat message; returns its action id. */
    fun sendMessage(text: String): String = drive { it.sendMessage(now(), text) }

    /** The shopper pressed "Add" on [product]; fires [Callbacks.onProductClick]. */
    @JvmOverloads
    fun selectProduct(product: ProductItem, quantity: Double? = null): String =
        drive { it.selectProduct(now(), product, quantity) }

    /** Sets the quantity of a cart line. */
    fun updateQuantity(sku: String, quantity: Double): String = drive { it.updateQuantity(now(), sku, quantity) }

    /** Removes a cart line. */
    fun removeItem(sku: String): String = drive { it.removeItem(now(), sku) }

    /** Empties the cart. */
    fun clearCart(): String = drive { it.clearCart(now()) }

    /** Forgets the conversation and starts a new one. */
    fun reset() = drive { it.reset(now()) }

    /** The connection state. */
    val state: ConnectionState get() = if (closed) ConnectionState.DESTROYED else session.state()

    /** The cart as last confirmed by the server. */
    val cart: Cart get() = if (closed) Cart(emptyList(), 0.0) else session.cart()

    /** The session id: store it with [lastSeq] to resume after the app restarts. */
    val sessionId: String? get() = if (closed) null else session.sessionId()

    /** The last server `seq` applied. */
    val lastSeq: ULong get() = if (closed) 0uL else session.lastSeq()

    /** Accepted actions that have not ended. */
    val pendingActions: List<PendingAction> get() = if (closed) emptyList() else session.pendingActions()

    /**
     * Releases everything now: closes the socket, stops the timer, frees the
     * native session. Idempotent. Nothing is called back afterwards.
     */
    override fun close() {
        synchronized(timerLock) {
            if (closed) return
            closed = true
            timer?.cancel()
        }
        session.shutdown(now())
        scope.cancel()
        sockets.values.forEach { it.cancel() }
        sockets.clear()
        session.close()
    }

    override fun toString(): String = "VizochokWidget(state=$state)"

    // ----- what the core asks for -----

    private inner class Transport : SessionTransport {
        override fun openSocket(socket: ULong, url: String) {
            val request = Request.Builder().url(url).build()
            val ws = client.newWebSocket(request, SocketListener(socket))
            sockets[socket] = ws
            current = ws
        }

        override fun sendText(text: String) {
            current?.send(text)
        }

        override fun closeSocket(socket: ULong, code: UShort, reason: String) {
            val ws = sockets.remove(socket) ?: return
            if (current === ws) current = null
            val sent = try {
                sendableCloseCode(code.toInt()) && ws.close(code.toInt(), reason.take(100))
            } catch (e: IllegalArgumentException) {
                false
            }
            if (!sent) ws.cancel()
        }
    }

    /** Feeds one socket's events to the core; events of a replaced socket are ignored by the core. */
    private inner class SocketListener(private val id: ULong) : WebSocketListener() {
        @Volatile private var reported = false

        private fun feed(block: (VizochokSession) -> Unit) {
            if (closed) return
            try {
                drive(block)
            } catch (e: VizochokException.Destroyed) {
                // closed meanwhile
            } catch (e: IllegalStateException) {
                // the native session was freed by close() meanwhile
            }
        }

        override fun onOpen(webSocket: WebSocket, response: Response) = feed { it.socketOpened(now(), id) }

        override fun onMessage(webSocket: WebSocket, text: String) = feed { it.socketText(now(), id, text) }

        override fun onMessage(webSocket: WebSocket, bytes: ByteString) =
            feed { it.socketBinary(now(), id, bytes.size.toULong()) }

        override fun onClosing(webSocket: WebSocket, code: Int, reason: String) {
            webSocket.close(1000, null)
            closedOnce(code, reason)
        }

        override fun onClosed(webSocket: WebSocket, code: Int, reason: String) = closedOnce(code, reason)

        override fun onFailure(webSocket: WebSocket, t: Throwable, response: Response?) {
            if (reported) return
            reported = true
            sockets.remove(id)
            feed { it.socketError(now(), id, "${t.javaClass.simpleName}: ${t.message ?: "no detail"}") }
        }

        private fun closedOnce(code: Int, reason: String) {
            if (reported) return
            reported = true
            sockets.remove(id)
            val wireCode = if (code in 1000..4999 && code != 1005 && code != 1006) code.toUShort() else null
            feed { it.socketClosed(now(), id, wireCode, reason) }
        }
    }

    /** Hands the core's events to the app's callbacks and to [events]. */
    private inner class Listener : SessionListener {
        private fun deliver(event: WidgetEvent, call: Callbacks.() -> Unit) {
            flow.tryEmit(event)
            try {
                callbacks.call()
            } catch (e: Exception) {
                // An app's callback failed: report it like an uncaught exception, keep the client running.
                val thread = Thread.currentThread()
                thread.uncaughtExceptionHandler?.uncaughtException(thread, e) ?: e.printStackTrace()
            }
        }

        override fun onConnect() = deliver(WidgetEvent.Connect) { onConnect() }
        override fun onDisconnect() = deliver(WidgetEvent.Disconnect) { onDisconnect() }
        override fun onCartChanged(event: CartChangedEvent) =
            deliver(WidgetEvent.CartChanged(event)) { onCartChanged(event) }
        override fun onProductClick(product: ProductItem) =
            deliver(WidgetEvent.ProductClick(product)) { onProductClick(product) }
        override fun onSessionComplete(summary: SessionSummary) =
            deliver(WidgetEvent.SessionComplete(summary)) { onSessionComplete(summary) }
        override fun onError(error: WidgetError) = deliver(WidgetEvent.Error(error)) { onError(error) }
        override fun onStateChange(state: ConnectionState) =
            deliver(WidgetEvent.StateChanged(state)) { onStateChange(state) }
        override fun onMessage(event: MessageEvent) = deliver(WidgetEvent.Message(event)) { onMessage(event) }
    }

    companion object {
        /** Shared by every widget that is not handed its own client. */
        private val defaultClient: OkHttpClient by lazy { OkHttpClient() }

        /** Close codes an endpoint may send (RFC 6455 §7.4). */
        private fun sendableCloseCode(code: Int) =
            code in 1000..1003 || code in 1007..1014 || code in 3000..4999
    }
}
