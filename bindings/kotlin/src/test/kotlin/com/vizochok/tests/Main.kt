package com.vizochok.tests

import com.vizochok.Callbacks
import com.vizochok.OkHttpTransport
import com.vizochok.Reports
import com.vizochok.SessionStore
import com.vizochok.Transport
import com.vizochok.VizochokConfig
import com.vizochok.VizochokException
import com.vizochok.VizochokWidget
import com.vizochok.blocks
import com.vizochok.core.Event
import com.vizochok.core.State
import com.vizochok.errorMessage
import com.vizochok.proto.CartAction
import com.vizochok.proto.CartChangedEvent
import com.vizochok.proto.ErrorCode
import com.vizochok.proto.PageContext
import com.vizochok.proto.PageInfo
import com.vizochok.proto.ProductItem
import com.vizochok.proto.Rating
import com.vizochok.proto.Reply
import com.vizochok.proto.SessionSummary
import com.vizochok.proto.WidgetError
import com.vizochok.uiText
import java.io.File
import java.io.InputStream
import java.lang.ref.WeakReference
import java.net.InetAddress
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.Socket
import java.net.SocketException
import java.net.SocketTimeoutException
import java.security.MessageDigest
import java.util.Base64
import java.util.concurrent.AbstractExecutorService
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import java.util.logging.Handler
import java.util.logging.LogRecord
import java.util.logging.Logger
import kotlin.system.exitProcess
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.takeWhile
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import okhttp3.Dispatcher
import okhttp3.OkHttpClient

// A small test runner: kotlinc + the JVM, no test framework to install.

private val tests = LinkedHashMap<String, () -> Unit>()
private fun test(name: String, body: () -> Unit) { tests[name] = body }

fun assertTrue(cond: Boolean, message: () -> String) { if (!cond) throw AssertionError(message()) }
fun <T> assertEq(expected: T, actual: T, what: String) {
    if (expected != actual) throw AssertionError("$what: expected $expected, got $actual")
}

const val WAIT_SECONDS = 20L
const val DEMO_KEY = "pk_demo"
const val CANARY_KEY = "pk_canary_kotlin_9f3b"
const val CANARY_TOKEN = "tok_canary_kotlin_51aa"

/** A `vizochok sandbox` process on a free loopback port; its JSON log lines are kept. */
class Sandbox(settings: String? = null, stateDir: File? = null, port: Int? = null) : AutoCloseable {
    val port: Int = port ?: ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()).use { it.localPort }
    val url = "ws://127.0.0.1:${this.port}/v1/ws"
    private val log = File.createTempFile("vizochok-sandbox", ".log")
    private val process: Process

    init {
        val bin = System.getenv("VIZOCHOK_BIN") ?: error("VIZOCHOK_BIN is not set")
        val args = mutableListOf(bin, "sandbox", "--addr", "127.0.0.1:${this.port}")
        if (settings != null) {
            val file = File.createTempFile("vizochok-settings", ".json")
            file.writeText(settings)
            args += listOf("--config", file.path)
        }
        if (stateDir != null) args += listOf("--state", stateDir.path)
        process = ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.appendTo(log))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS)
        while (true) {
            try {
                Socket().use { it.connect(InetSocketAddress("127.0.0.1", this.port), 200) }
                break
            } catch (e: java.io.IOException) {
                check(process.isAlive) { "the sandbox exited: ${log.readText()}" }
                check(System.nanoTime() < deadline) { "the sandbox did not listen on ${this.port}" }
                Thread.sleep(20)
            }
        }
    }

    fun logLines(): List<String> = log.readLines()

    /** Stops the process (SIGTERM: it saves its state and closes every socket). */
    override fun close() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly()
            process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)
        }
    }
}

/** Records every callback as the [Event] it stands for, and lets a test wait for one. */
class Recorder : Callbacks {
    val events = LinkedBlockingQueue<Event>()
    /** Written on OkHttp's thread while a test reads it: each read iterates a snapshot. */
    val all = java.util.concurrent.CopyOnWriteArrayList<Event>()
    @Volatile var connectThread: String? = null
    private fun add(e: Event) {
        if (e == Event.Connect) connectThread = Thread.currentThread().name
        all += e
        events += e
    }
    override fun onCartChanged(cart: CartChangedEvent) = add(Event.CartChanged(cart))
    override fun onProductClick(product: ProductItem) = add(Event.ProductClick(product))
    override fun onSessionComplete(summary: SessionSummary) = add(Event.SessionComplete(summary))
    override fun onError(error: WidgetError) = add(Event.Error(error))
    override fun onConnect() = add(Event.Connect)
    override fun onDisconnect() = add(Event.Disconnect)
    override fun onMessage(event: Event) = add(event)
    override fun onStateChange(state: State) = add(Event.StateChanged(state))

    /** Waits (bounded) for the first event [pick] accepts; events before it are skipped. */
    fun <T> await(what: String, pick: (Event) -> T?): T {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS)
        while (true) {
            val left = deadline - System.nanoTime()
            val e = events.poll(maxOf(left, 0), TimeUnit.NANOSECONDS)
                ?: throw AssertionError("timed out waiting for $what; saw ${all.toList()}")
            pick(e)?.let { return it }
        }
    }

    fun awaitConnect() = await("onConnect") { if (it == Event.Connect) Unit else null }

    fun awaitCart(what: String) = await(what) { (it as? Event.CartChanged)?.v1 }

    fun awaitState(state: State) = await("state $state") { if (it == Event.StateChanged(state)) Unit else null }
}

/** A session store in memory, as an app would keep it in its preferences. */
class MemoryStore(var saved: String? = null) : SessionStore {
    override fun load() = saved
    override fun save(sessionId: String?) { saved = sessionId }
}

/** Sends [text] and waits for its whole reply; returns it and the deltas joined. */
fun ask(widget: VizochokWidget, rec: Recorder, text: String): Pair<Reply, String> {
    val id = widget.sendMessage(text) ?: throw AssertionError("the message was refused")
    val streamed = StringBuilder()
    val reply = rec.await("the reply to $text") {
        if (it is Event.Delta && it.replyTo == id) streamed.append(it.text)
        if (it is Event.Error && it.v1.replyTo == id) throw AssertionError("error reply: ${it.v1}")
        (it as? Event.Response)?.v1?.takeIf { r -> r.replyTo == id }
    }
    return reply to streamed.toString()
}

fun config(url: String, language: String = "uk") = VizochokConfig(storeId = "demo-store", url = url, language = language)

/** A connected widget on [sandbox]. */
fun connected(sandbox: Sandbox, rec: Recorder, language: String = "uk", store: SessionStore? = null): VizochokWidget {
    val w = VizochokWidget(DEMO_KEY, config(sandbox.url, language), rec, sessionStore = store)
    w.connect()
    rec.awaitConnect()
    return w
}

/** An app's screen: its callbacks use its widget, as an app's do. */
class Screen(val rec: Recorder = Recorder()) : Callbacks by rec {
    lateinit var widget: VizochokWidget
    override fun onConnect() {
        widget.cart
        rec.onConnect()
    }
}

/** A new [Screen]'s widget, connected then closed, and weak references to the screen and its session store. */
fun closedScreen(sandbox: Sandbox): Pair<VizochokWidget, List<WeakReference<Any>>> {
    val screen = Screen()
    val store = MemoryStore()
    screen.widget = VizochokWidget(DEMO_KEY, config(sandbox.url), screen, sessionStore = store)
    screen.widget.connect()
    screen.rec.awaitConnect()
    screen.widget.close()
    return screen.widget to listOf(WeakReference(screen), WeakReference(store))
}

/** A transport scripted by the test, whose calls named in [failing] throw, as an app's own transport might. */
class FailingTransport : Transport {
    val failing = HashSet<String>()
    val sent = ArrayList<String>()
    var socket: Pair<ULong, Reports>? = null
    private fun call(name: String) {
        if (name in failing) throw IllegalStateException("$name failed on frame text $CANARY_TOKEN")
    }
    override fun now() = 0uL
    override fun open(socket: ULong, url: String, reports: Reports) { this.socket = socket to reports }
    override fun send(socket: ULong, text: String) { call("send"); sent += text }
    override fun close(socket: ULong, code: Int, reason: String) = call("close")
    override fun setTimer(deadline: ULong?, reports: Reports) = call("setTimer")
}

/** The `com.vizochok` log records [body] causes. */
fun logged(body: () -> Unit): List<LogRecord> {
    val records = java.util.concurrent.CopyOnWriteArrayList<LogRecord>()
    val handler = object : Handler() {
        override fun publish(record: LogRecord) { records += record }
        override fun flush() {}
        override fun close() {}
    }
    val logger = Logger.getLogger("com.vizochok")
    logger.addHandler(handler)
    try {
        body()
    } finally {
        logger.removeHandler(handler)
    }
    return records
}

/** Reads an HTTP request's head; its Sec-WebSocket-Key. */
fun readUpgradeKey(input: InputStream): String {
    val head = StringBuilder()
    while (!head.endsWith("\r\n\r\n")) {
        val b = input.read()
        check(b >= 0) { "the request ended early: $head" }
        head.append(b.toChar())
    }
    return head.lines().first { it.startsWith("Sec-WebSocket-Key:", ignoreCase = true) }.substringAfter(':').trim()
}

/** A server's answer completing the upgrade of the request with [key]. */
fun upgradeAnswer(key: String): ByteArray {
    val digest = MessageDigest.getInstance("SHA-1").digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").toByteArray())
    val accept = Base64.getEncoder().encodeToString(digest)
    return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: $accept\r\n\r\n").toByteArray()
}

/** The next byte [peer] sends, or -1 once the client has dropped the connection. */
fun nextByte(peer: Socket): Int = try {
    peer.getInputStream().read()
} catch (e: SocketTimeoutException) {
    throw AssertionError("the connection was still open ${peer.soTimeout} ms after close()")
} catch (e: SocketException) {
    -1 // reset: the client is gone
}

/** Runs each task on the caller's thread: OkHttp's calls then end before `newWebSocket` returns. */
object SameThread : AbstractExecutorService() {
    override fun execute(command: Runnable) = command.run()
    override fun shutdown() {}
    override fun shutdownNow() = mutableListOf<Runnable>()
    override fun isShutdown() = false
    override fun isTerminated() = false
    override fun awaitTermination(timeout: Long, unit: TimeUnit) = true
}

fun main() {
    // ----- the shared scenario suite, through the public widget -----
    test("every scenarios/*.json replays exactly through VizochokWidget") {
        val dir = File(System.getenv("VIZOCHOK_SCENARIOS") ?: "scenarios")
        val files = dir.listFiles { f -> f.name.endsWith(".json") }?.sortedBy { it.name }.orEmpty()
        assertTrue(files.isNotEmpty()) { "no scenario files in $dir" }
        val failures = ArrayList<String>()
        var steps = 0
        for (f in files) {
            try {
                steps += ScenarioRig.runFile(f)
            } catch (e: Throwable) {
                failures += "${f.name}: ${e.message}"
            }
        }
        println("    kotlin widget: ${files.size} scenario files, $steps steps, ${failures.size} failed")
        assertTrue(failures.isEmpty()) { failures.joinToString("\n\n") }
    }

    test("the scenario matcher is strict where it must be") {
        val m = ScenarioRig.Companion::matches
        assertTrue(m(listOf(mapOf("a" to 2.0)), listOf(mapOf("a" to 2L)))) { "2 == 2.0" }
        assertTrue(!m(listOf(mapOf("a" to 1.0)), listOf(mapOf("a" to 1.0), mapOf("b" to 2.0)))) { "extra outputs fail" }
        assertTrue(!m(mapOf("a" to null), emptyMap<String, Any?>())) { "null is not absent" }
        assertTrue(!m("x", "*")) { "a star in the output is not a wildcard" }
    }

    // ----- configuration, secrets, misuse -----
    test("a bad config is refused before any I/O and never shows the api key or the user token") {
        for (url in listOf("ws://shop.example.com/v1/ws", "http://127.0.0.1/", "wss://$CANARY_KEY@host/v1/ws",
            "ws://127.0.0.1/v1/ws?t=$CANARY_TOKEN", "ws://?k=$CANARY_KEY")) {
            val rec = Recorder()
            try {
                VizochokWidget(CANARY_KEY, config(url), rec, userToken = CANARY_TOKEN).close()
                throw AssertionError("accepted $url")
            } catch (e: VizochokException.InvalidConfig) {
                val shown = "${e.message} $e"
                assertTrue(!shown.contains(CANARY_KEY) && !shown.contains(CANARY_TOKEN)) { "a secret in $shown" }
            }
            assertTrue(rec.all.isEmpty()) { "callbacks before I/O: ${rec.all}" }
        }
        val cfg = config("ws://127.0.0.1:1/v1/ws")
        VizochokWidget(CANARY_KEY, cfg, userToken = CANARY_TOKEN).use { w ->
            val shown = "$w $cfg"
            assertTrue(!shown.contains(CANARY_KEY) && !shown.contains(CANARY_TOKEN)) { "a secret in $shown" }
        }
    }

    test("wrong calls throw, a refused message is null with onError, close refuses actions but keeps reads") {
        val rec = Recorder()
        val w = VizochokWidget(DEMO_KEY, config("ws://127.0.0.1:1/v1/ws"), rec)
        try { w.sendMessage("   "); throw AssertionError("empty text accepted") } catch (e: IllegalArgumentException) {}
        val product = ProductItem("milk-1", "Молоко", 40.0, "pcs", 1.0)
        try { w.selectProduct(product, 1.5); throw AssertionError("1.5 of a step-1 product") } catch (e: IllegalArgumentException) {}
        assertTrue(rec.all.isEmpty()) { "a wrong call is no onError: ${rec.all}" }
        assertEq(null, w.sendMessage("x".repeat(2001)), "a message too large is refused")
        val error = rec.await("onError") { (it as? Event.Error)?.v1 }
        assertEq(ErrorCode.MESSAGE_TOO_LARGE, error.code, "code")
        val queued = w.sendMessage("молоко") ?: throw AssertionError("queued while idle")
        w.close()
        w.close() // idempotent
        try { w.clearCart(); throw AssertionError("accepted after close") } catch (e: IllegalStateException) {}
        assertEq(State.DESTROYED, w.state, "state after close")
        assertEq(listOf(queued), w.pendingActions.map { it.id }, "the queued message stays readable")
        assertEq("Надіслати", uiText("send", "uk"), "uk send")
        assertEq("Connection lost. Reconnecting…", errorMessage(ErrorCode.CONNECTION_LOST, "de"), "fallback to English")
    }

    test("a transport whose calls throw is logged by class, and no exception reaches the app's call") {
        val transport = FailingTransport()
        val auth = "{\"type\":\"auth_ok\",\"session_id\":\"s1\",\"restored\":false,\"replay\":false}"
        val records = logged {
            val w = VizochokWidget(DEMO_KEY, config("ws://127.0.0.1:1/v1/ws"), Recorder(), transport = transport)
            transport.failing += "setTimer"
            w.connect()
            val (socket, reports) = transport.socket ?: throw AssertionError("no socket opened")
            transport.failing.clear()
            reports.opened(socket)
            reports.text(socket, auth)
            assertEq(State.CONNECTED, w.state, "state")
            transport.failing += "send"
            assertTrue(w.sendMessage("молоко") != null) { "the message was accepted" }
            transport.failing.clear()
            val cleared = w.clearCart() ?: throw AssertionError("clearCart refused")
            assertTrue(transport.sent.last().contains(cleared)) { "the widget went on sending: ${transport.sent}" }
            transport.failing += "close"
            w.close()
            assertEq(State.DESTROYED, w.state, "state after close")
        }
        val messages = records.map { it.message }
        assertEq(3, records.size, "one record per failed call: $messages")
        for ((record, call) in records.zip(listOf("setTimer", "send", "close"))) {
            assertTrue(record.message.contains(call) && record.message.contains("IllegalStateException")) { record.message }
            assertTrue(!record.message.contains(CANARY_TOKEN) && record.thrown == null) { "the failure's text: ${record.message}" }
        }
    }

    test("close() abandons a socket still opening: the server sees it end at once, and the upgrade never completes") {
        for (answerAfterClose in listOf(true, false)) {
            ServerSocket(0, 1, InetAddress.getLoopbackAddress()).use { server ->
                server.soTimeout = (WAIT_SECONDS * 1000).toInt()
                val rec = Recorder()
                val w = VizochokWidget(DEMO_KEY, config("ws://127.0.0.1:${server.localPort}/v1/ws"), rec)
                w.connect()
                server.accept().use { peer ->
                    peer.soTimeout = 3000 // well before OkHttp's read timeout (10 s)
                    val key = readUpgradeKey(peer.getInputStream())
                    w.close()
                    if (answerAfterClose) {
                        // A client that only queued its close frame would take this, open, then send that frame.
                        try { peer.getOutputStream().write(upgradeAnswer(key)) } catch (e: SocketException) {}
                    }
                    assertEq(-1, nextByte(peer), "what the server read after close() (answered: $answerAfterClose)")
                }
                assertEq(Event.StateChanged(State.DESTROYED), rec.all.last(), "nothing is called back after close()")
            }
        }
    }

    test("a socket that fails before OkHttp's newWebSocket returns is not kept by the transport") {
        val calls = java.util.concurrent.CopyOnWriteArrayList<WeakReference<okhttp3.Call>>()
        val client = OkHttpClient.Builder()
            .dispatcher(Dispatcher(SameThread))
            .addInterceptor { chain -> calls += WeakReference(chain.call()); chain.proceed(chain.request()) }
            .build()
        val rec = Recorder()
        val w = VizochokWidget(DEMO_KEY, config("ws://127.0.0.1:1/v1/ws"), rec, transport = OkHttpTransport(client))
        w.connect() // refused at once, on this thread
        assertEq(ErrorCode.WS_ERROR, rec.await("ws_error") { (it as? Event.Error)?.v1 }.code, "the refusal")
        w.close()
        repeat(10) { if (calls.any { it.get() != null }) System.gc() }
        assertEq(1, calls.size, "one socket opened")
        assertEq(null, calls.single().get(), "the failed socket after GC, while the widget is kept")
        assertEq(State.DESTROYED, w.state, "the kept widget")
    }

    test("an OkHttpTransport given to a second widget is refused, so their timers and sockets never mix") {
        val shared = OkHttpTransport()
        val first = VizochokWidget(DEMO_KEY, config("ws://127.0.0.1:1/v1/ws"), Recorder(), transport = shared)
        val refused = runCatching { VizochokWidget(DEMO_KEY, config("ws://127.0.0.1:1/v1/ws"), Recorder(), transport = shared) }
        assertTrue(refused.exceptionOrNull() is IllegalArgumentException) { "got $refused" }
        assertEq(State.IDLE, first.state, "the first widget is untouched")
        first.close()
    }

    // ----- end to end against `vizochok sandbox` -----
    test("connect: onConnect on OkHttp's thread, the states, and the Flow of events") {
        Sandbox().use { sandbox ->
            val rec = Recorder()
            VizochokWidget(DEMO_KEY, config(sandbox.url), rec).use { w ->
                val seen = runBlocking {
                    // Undispatched: collecting has begun when `async` returns, before connect().
                    val job = async(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
                        w.events.takeWhile { it != Event.Connect }.toList()
                    }
                    w.connect()
                    rec.awaitConnect()
                    withTimeout(WAIT_SECONDS * 1000) { job.await() }
                }
                assertEq(State.CONNECTED, w.state, "state")
                val states = rec.all.filterIsInstance<Event.StateChanged>().map { it.v1 }
                assertEq(listOf(State.CONNECTING, State.AUTHENTICATING, State.CONNECTED), states, "states")
                assertEq(states.map { Event.StateChanged(it) }, seen, "the Flow saw the same")
                assertTrue(w.sessionId != null) { "a session id" }
                assertTrue(rec.connectThread?.startsWith("OkHttp") == true) { "onConnect on ${rec.connectThread}" }
            }
        }
    }

    test("chat: a streamed Ukrainian reply with product cards") {
        Sandbox().use { sandbox ->
            val rec = Recorder()
            connected(sandbox, rec).use { w ->
                val (reply, streamed) = ask(w, rec, "молоко")
                assertTrue(reply.products.isNotEmpty()) { "no cards in ${reply.text}" }
                assertTrue(reply.products.all { it.name.lowercase().contains("молоко") }) { "${reply.products}" }
                assertEq(reply.text, streamed, "the deltas add up to the reply")
                assertTrue(w.pendingActions.isEmpty()) { "the message ended: ${w.pendingActions}" }
            }
        }
    }

    test("cart: onProductClick, then onCartChanged with the whole cart") {
        Sandbox().use { sandbox ->
            val rec = Recorder()
            connected(sandbox, rec).use { w ->
                val cards = ask(w, rec, "молоко").first.products
                assertTrue(cards.size >= 2) { "need two cards, got $cards" }
                w.selectProduct(cards[0])
                val first = rec.awaitCart("first cart")
                assertEq(CartAction.ITEM_SELECTED, first.action, "action")
                assertEq(1, first.items.size, "one line")
                w.selectProduct(cards[1], 2 * cards[1].quantityStep)
                val second = rec.awaitCart("second cart")
                assertEq(2, second.items.size, "items is the whole cart")
                val expected = second.items.sumOf { (it.promoPrice ?: it.price) * it.quantity }
                assertTrue(Math.abs(second.total - expected) < 1e-6) { "total ${second.total} vs $expected" }
                assertEq(2, rec.all.count { it is Event.ProductClick }, "onProductClick per add")
                assertEq(second.items, w.cart.items, "the widget's cart")
                w.clearCart()
                val cleared = rec.awaitCart("cleared")
                assertEq(CartAction.CART_CLEARED, cleared.action, "action")
                assertTrue(cleared.items.isEmpty() && cleared.sku == null) { "$cleared" }
            }
        }
    }

    test("a cut: a reply cut mid-stream arrives whole, resumed by replay") {
        Sandbox("""{"engine": {"delta_chars": 8}, "faults": {"drop_after_frames": 5}}""").use { sandbox ->
            val rec = Recorder()
            connected(sandbox, rec).use { w ->
                val (reply, streamed) = ask(w, rec, "молоко")
                assertTrue(reply.products.isNotEmpty()) { "cards" }
                assertEq(reply.text, streamed, "every delta arrived once, in order")
                assertTrue(rec.all.any { it == Event.Disconnect }) { "the socket was cut" }
                assertTrue(rec.all.any { it is Event.Error && it.v1.code == ErrorCode.WS_ERROR }) { "the cut is a ws_error" }
            }
            assertTrue(sandbox.logLines().any { it.contains("\"kind\":\"auth_ok\"") && it.contains("replay") }) {
                "resumed by replay: ${sandbox.logLines()}"
            }
        }
    }

    test("a frame past the 1 MiB limit is reported as ws_error and the connection stays") {
        Sandbox("""{"faults": {"oversized_every": 3}}""").use { sandbox ->
            val rec = Recorder()
            connected(sandbox, rec).use { w ->
                val (reply, streamed) = ask(w, rec, "молоко")
                assertEq(reply.text, streamed, "every delta arrived once, in order")
                val errors = rec.all.toList().filterIsInstance<Event.Error>().map { it.v1 }
                assertTrue(errors.isNotEmpty() && errors.all { it.code == ErrorCode.WS_ERROR }) { "$errors" }
                assertEq("frame of 1048577 bytes exceeds the 1048576-byte limit", errors.first().detail, "detail")
                assertEq(1, rec.all.count { it == Event.Connect }, "one connection throughout")
                assertTrue(rec.all.none { it == Event.Disconnect }) { "never disconnected" }
            }
        }
    }

    test("restore: a new widget with the saved session id gets the summary and the history") {
        Sandbox().use { sandbox ->
            val store = MemoryStore()
            val first = Recorder()
            val cart = connected(sandbox, first, store = store).use { w ->
                val cards = ask(w, first, "молоко").first.products
                w.selectProduct(cards[0], 3 * cards[0].quantityStep)
                first.awaitCart("cart")
            }
            assertTrue(store.saved != null) { "the session id was saved" }
            val second = Recorder()
            connected(sandbox, second, store = store).use { w ->
                val summary = second.await("onSessionComplete") { (it as? Event.SessionComplete)?.v1 }
                assertEq(cart.items, summary.selectedItems, "the whole cart came back")
                val history = second.await("the history") { (it as? Event.History)?.v1 }
                assertEq("молоко", history.first().text, "the conversation came back")
                assertEq(store.saved, w.sessionId, "the same session")
            }
        }
    }

    test("a restarted sandbox (SIGTERM, state directory) restores the whole cart on reconnect") {
        val state = kotlin.io.path.createTempDirectory("vizochok-state").toFile()
        val rec = Recorder()
        val first = Sandbox(stateDir = state)
        connected(first, rec).use { w ->
            val cards = ask(w, rec, "молоко").first.products
            w.selectProduct(cards[0], 3 * cards[0].quantityStep)
            val cart = rec.awaitCart("cart")
            first.close()
            rec.await("onDisconnect") { if (it == Event.Disconnect) Unit else null }
            Sandbox(stateDir = state, port = first.port).use {
                w.networkOnline() // skip the backoff wait
                val summary = rec.await("restored summary") { (it as? Event.SessionComplete)?.v1 }
                assertEq(cart.items, summary.selectedItems, "the whole cart came back")
                val untilDisconnect = rec.all.takeWhile { it != Event.Disconnect }
                assertTrue(untilDisconnect.none { it is Event.Error }) { "a restart's close frame is no onError: ${rec.all}" }
            }
        }
        state.deleteRecursively()
    }

    test("auth_error: onError once, stopped, no reconnect loop, the key never shown or logged") {
        Sandbox().use { sandbox ->
            val rec = Recorder()
            VizochokWidget(CANARY_KEY, config(sandbox.url, "en"), rec).use { w ->
                w.connect()
                val error = rec.await("auth_error") { (it as? Event.Error)?.v1 }
                assertEq(ErrorCode.AUTH_ERROR, error.code, "code")
                assertEq("The chat is unavailable. Please refresh the page.", error.message, "localized text")
                rec.awaitState(State.STOPPED)
                // Several backoff periods (the first is at most 1 s): nothing more may happen.
                val more = rec.events.poll(2500, TimeUnit.MILLISECONDS)
                assertTrue(more == null) { "event after auth_error: $more" }
                assertEq(State.STOPPED, w.state, "state")
                val texts = rec.all.joinToString() + w.toString()
                assertTrue(!texts.contains(CANARY_KEY)) { "the key in an event: $texts" }
            }
            val lines = sandbox.logLines()
            assertEq(1, lines.count { it.contains("\"kind\":\"opened\"") }, "one socket, no reconnect (log: $lines)")
            assertTrue(lines.none { it.contains(CANARY_KEY) }) { "the key in the sandbox log" }
        }
    }

    test("a URL OkHttp cannot open is a ws_error and a failing session store is logged, never a throw") {
        val rec = Recorder()
        // The core takes the port; OkHttp's Request.Builder threw, and uniffi turned it into a panic.
        VizochokWidget("pk_demo", config("wss://shop.example.com:70000/ws"), rec).use { w ->
            w.connect()
            val error = rec.await("ws_error") { (it as? Event.Error)?.v1 }
            assertEq(ErrorCode.WS_ERROR, error.code, "code")
        }
        Sandbox().use { sandbox ->
            val failing = object : SessionStore {
                override fun load(): String? = null
                override fun save(sessionId: String?) = throw IllegalStateException("disk full")
            }
            val records = logged {
                VizochokWidget("pk_demo", config(sandbox.url), rec, sessionStore = failing).use {
                    it.connect()
                    rec.awaitConnect()
                }
            }
            val failures = records.map { it.message }.filter { it.contains("session store") }
            assertTrue(failures.isNotEmpty() && failures.all { it.endsWith("IllegalStateException") }) { "logged: $failures" }
            assertTrue(records.none { it.message.contains("disk full") }) { "the store's own message was logged" }
        }
    }

    test("close() releases at once: the socket closes, nothing is called back, reads keep the last state") {
        Sandbox().use { sandbox ->
            val rec = Recorder()
            val w = connected(sandbox, rec)
            val id = w.sessionId
            val collected = runBlocking {
                val running = async(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) { w.events.toList() }
                w.close()
                withTimeout(WAIT_SECONDS * 1000) { running.await() }
            }
            val ending = listOf(Event.Disconnect, Event.StateChanged(State.DESTROYED))
            assertEq(ending, collected, "a collection running at close() ends after the last events")
            val later = runBlocking { withTimeout(WAIT_SECONDS * 1000) { w.events.toList() } }
            assertEq(emptyList<Event>(), later, "a collection started after close() ends at once")
            val after = rec.all.toList()
            assertEq(ending, after.takeLast(2), "the last events")
            rec.events.clear()
            assertEq(null, rec.events.poll(300, TimeUnit.MILLISECONDS), "a callback after close returned")
            assertEq(id, w.sessionId, "the session id stays readable")
            assertEq(State.DESTROYED, w.state, "state")
        }
    }

    test("close() lets go of the app's callbacks and session store, also while the app keeps the widget") {
        Sandbox().use { sandbox ->
            val (kept, refs) = closedScreen(sandbox)
            val all = refs + closedScreen(sandbox).second
            repeat(10) { if (all.any { it.get() != null }) System.gc() }
            assertEq(List(4) { null }, all.map { it.get() }, "the closed widgets' screens and stores after GC")
            assertEq(State.DESTROYED, kept.state, "the kept widget still reads")
        }
    }

    test("page frames: add this, stop, feedback, suggestions and blocks") {
        Sandbox("""{"engine": {"delta_interval_ms": 100}}""").use { sandbox ->
            val rec = Recorder()
            connected(sandbox, rec, language = "en").use { w ->
                val page = PageInfo(url = "https://shop.example/p/DAI-003", title = "Milk")
                val context = w.setContext(PageContext(page = page, sku = "DAI-003", currency = "UAH"))
                rec.await("the context acknowledged") { (it as? Event.Acknowledged)?.takeIf { a -> a.id == context } }
                val (added, _) = ask(w, rec, "add this")
                assertEq("DAI-003", rec.all.filterIsInstance<Event.CartChanged>().single().v1.sku, "that sku in the cart")
                assertEq(listOf("DAI-003"), w.cart.items.map { it.sku }, "the widget's cart")
                val spans = added.blocks.flatMap { it.spans }
                assertTrue(spans.any { it.bold } && spans.any { it.link == page.url }) { "bold and a link: $spans" }

                val found = ask(w, rec, "find milk").first
                assertEq(listOf("Show cheaper", "Add the first one"), found.suggestions, "suggestions")
                val rated = w.feedback(found.messageId, Rating.DOWN, "no oat milk")
                rec.await("feedback acknowledged") { (it as? Event.Acknowledged)?.takeIf { a -> a.id == rated } }

                assertEq(null, w.stop(), "nothing streams")
                val help = w.sendMessage("help")
                rec.await("the first chunk") { (it as? Event.Delta)?.takeIf { d -> d.replyTo == help } }
                assertTrue(w.stop() != null) { "a streaming reply to stop" }
                val stopped = rec.await("the stopped reply") { (it as? Event.Response)?.v1?.takeIf { r -> r.replyTo == help } }
                assertTrue(stopped.cancelled) { "cancelled: $stopped" }
            }
        }
    }

    // ----- run -----
    val filter = System.getenv("TEST_FILTER") ?: ""
    var failed = 0
    var passed = 0
    for ((name, body) in tests) {
        if (!name.contains(filter)) continue
        val started = System.nanoTime()
        try {
            body()
            passed++
            println("  ok   $name (${(System.nanoTime() - started) / 1_000_000} ms)")
        } catch (e: Throwable) {
            failed++
            println("  FAIL $name\n${e.stackTraceToString().prependIndent("       ")}")
        }
    }
    println("kotlin: $passed passed, $failed failed")
    // A filter that matches nothing ran nothing: that is no pass.
    exitProcess(if (failed == 0 && passed > 0) 0 else 1)
}
