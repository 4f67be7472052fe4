package com.vizochok.tests

import com.vizochok.CartChangedEvent
import com.vizochok.Callbacks
import com.vizochok.ConnectionState
import com.vizochok.MessageEvent
import com.vizochok.ProductItem
import com.vizochok.SessionSummary
import com.vizochok.VizochokConfig
import com.vizochok.VizochokException
import com.vizochok.VizochokWidget
import com.vizochok.WidgetError
import com.vizochok.WidgetEvent
import com.vizochok.errorMessage
import com.vizochok.uiText
import java.io.File
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.Socket
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import kotlin.system.exitProcess
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.flow.onSubscription
import kotlinx.coroutines.flow.takeWhile
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout

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

/** A `vizochok sandbox` process on a free loopback port; its JSON log lines are kept. */
class Sandbox(private val settings: String? = null, private val stateDir: File? = null, port: Int? = null) : AutoCloseable {
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

/** Records every callback, and lets a test wait for one. */
class Recorder : Callbacks {
    val events = LinkedBlockingQueue<WidgetEvent>()
    val all = java.util.Collections.synchronizedList(ArrayList<WidgetEvent>())
    @Volatile var connectThread: String? = null
    private fun add(e: WidgetEvent) {
        if (e == WidgetEvent.Connect) connectThread = Thread.currentThread().name
        all += e
        events += e
    }
    override fun onCartChanged(cart: CartChangedEvent) = add(WidgetEvent.CartChanged(cart))
    override fun onProductClick(product: ProductItem) = add(WidgetEvent.ProductClick(product))
    override fun onSessionComplete(summary: SessionSummary) = add(WidgetEvent.SessionComplete(summary))
    override fun onError(error: WidgetError) = add(WidgetEvent.Error(error))
    override fun onConnect() = add(WidgetEvent.Connect)
    override fun onDisconnect() = add(WidgetEvent.Disconnect)
    override fun onMessage(event: MessageEvent) = add(WidgetEvent.Message(event))
    override fun onStateChange(state: ConnectionState) = add(WidgetEvent.StateChanged(state))

    /** Waits (bounded) for the first event [pick] accepts; events before it are skipped. */
    fun <T> await(what: String, pick: (WidgetEvent) -> T?): T {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS)
        while (true) {
            val left = deadline - System.nanoTime()
            val e = events.poll(maxOf(left, 0), TimeUnit.NANOSECONDS)
                ?: throw AssertionError("timed out waiting for $what; saw ${all.toList()}")
            pick(e)?.let { return it }
        }
    }

    fun awaitConnect() = await("onConnect") { if (it == WidgetEvent.Connect) Unit else null }
}

/** Sends [text] and waits for its whole reply; returns (text, cards, the deltas joined). */
fun ask(widget: VizochokWidget, rec: Recorder, text: String): Triple<String, List<ProductItem>, String> {
    val id = widget.sendMessage(text)
    val streamed = StringBuilder()
    val response = rec.await("the reply to $text") {
        val m = (it as? WidgetEvent.Message)?.event
        if (m is MessageEvent.Delta && m.replyTo == id) streamed.append(m.text)
        if (it is WidgetEvent.Error && it.error.replyTo == id) throw AssertionError("error reply: ${it.error}")
        (m as? MessageEvent.Response)?.takeIf { r -> r.replyTo == id }
    }
    return Triple(response.text, response.products, streamed.toString())
}

fun config(url: String, language: String = "uk") = VizochokConfig(storeId = "demo-store", url = url, language = language)

fun main() {
    // ----- sans-IO: the shared scenario suite -----
    test("every scenarios/*.json replays exactly through VizochokSession") {
        val dir = File(System.getenv("VIZOCHOK_SCENARIOS") ?: "scenarios")
        val files = dir.listFiles { f -> f.name.endsWith(".json") }?.sortedBy { it.name }.orEmpty()
        assertTrue(files.isNotEmpty()) { "no scenario files in $dir" }
        val failures = ArrayList<String>()
        var steps = 0
        for (f in files) {
            try {
                steps += ScenarioRunner.runFile(f)
            } catch (e: Throwable) {
                failures += "${f.name}: ${e.message}"
            }
        }
        println("    ${files.size} scenario files, $steps steps, ${failures.size} failed")
        assertTrue(failures.isEmpty()) { failures.joinToString("\n\n") }
    }

    test("the scenario matcher is strict where it must be") {
        val m = ScenarioRunner.Companion::matches
        assertTrue(m(listOf(mapOf("a" to 2.0)), listOf(mapOf("a" to 2L)))) { "2 == 2.0" }
        assertTrue(!m(listOf(mapOf("a" to 1.0)), listOf(mapOf("a" to 1.0), mapOf("b" to 2.0)))) { "extra outputs fail" }
        assertTrue(!m(mapOf("a" to null), emptyMap<String, Any?>())) { "null is not absent" }
        assertTrue(!m("x", "*")) { "a star in the output is not a wildcard" }
    }

    // ----- configuration and secrets -----
    test("a bad config is refused before any I/O and never shows the api key") {
        for (url in listOf("ws://shop.example.com/v1/ws", "http://127.0.0.1/", "wss://$CANARY_KEY@host/v1/ws")) {
            val rec = Recorder()
            try {
                VizochokWidget(CANARY_KEY, config(url), rec).close()
                throw AssertionError("accepted $url")
            } catch (e: VizochokException.InvalidConfig) {
                assertTrue(!e.message.contains(CANARY_KEY) && !e.toString().contains(CANARY_KEY)) { "key in $e" }
            }
            assertTrue(rec.all.isEmpty()) { "callbacks before I/O: ${rec.all}" }
        }
        val cfg = config("ws://127.0.0.1:1/v1/ws")
        VizochokWidget(CANARY_KEY, cfg).use { w ->
            assertTrue(!w.toString().contains(CANARY_KEY) && !cfg.toString().contains(CANARY_KEY)) { "key in a repr" }
        }
    }

    test("misuse raises, a too-long message is rejected with onError, UI strings are localized") {
        VizochokWidget(DEMO_KEY, config("ws://127.0.0.1:1/v1/ws"), Recorder()).use { w ->
            try { w.sendMessage("   "); throw AssertionError("empty text accepted") } catch (e: VizochokException.InvalidArgument) {}
            val product = ProductItem("milk-1", "Молоко", 40.0, "pcs", 1.0)
            try { w.selectProduct(product, 1.5); throw AssertionError("1.5 of a step-1 product") } catch (e: VizochokException.InvalidArgument) {}
            try { w.sendMessage("x".repeat(2001)); throw AssertionError("2001 chars accepted") } catch (e: VizochokException.Rejected) {
                assertEq("message_too_large", e.code, "code")
            }
            w.close()
            try { w.sendMessage("hi"); throw AssertionError("accepted after close") } catch (e: VizochokException.Destroyed) {}
            assertEq(ConnectionState.DESTROYED, w.state, "state after close")
        }
        assertEq("Надіслати", uiText("send", "uk"), "uk send")
        assertEq("Connection lost. Reconnecting…", errorMessage("connection_lost", "de"), "fallback to English")
    }

    // ----- end to end against `vizochok sandbox` -----
    test("connect: onConnect, the state flow and the Flow of events") {
        Sandbox().use { sandbox ->
            val rec = Recorder()
            VizochokWidget(DEMO_KEY, config(sandbox.url), rec).use { w ->
                val seen = CompletableDeferred<List<WidgetEvent>>()
                runBlocking {
                    val subscribed = CompletableDeferred<Unit>()
                    val job = launch(kotlinx.coroutines.Dispatchers.Default) {
                        seen.complete(w.events.onSubscription { subscribed.complete(Unit) }
                            .takeWhile { it != WidgetEvent.Connect }.toList())
                    }
                    withTimeout(WAIT_SECONDS * 1000) { subscribed.await() }
                    w.connect()
                    rec.awaitConnect()
                    withTimeout(WAIT_SECONDS * 1000) { job.join() }
                }
                assertEq(ConnectionState.CONNECTED, w.state, "state")
                val states = rec.all.filterIsInstance<WidgetEvent.StateChanged>().map { it.state }
                assertEq(listOf(ConnectionState.CONNECTING, ConnectionState.AUTHENTICATING, ConnectionState.CONNECTED), states, "states")
                val flowed = runBlocking { seen.await() }
                assertEq(states.map { WidgetEvent.StateChanged(it) }, flowed, "the Flow saw the same states")
                assertTrue(w.sessionId != null) { "a session id" }
                // Socket events are delivered on OkHttp's threads, not on the thread that called connect().
                assertTrue(rec.connectThread?.startsWith("OkHttp") == true) { "onConnect on ${rec.connectThread}" }
            }
        }
    }

    test("chat: a streamed reply with product cards, in Ukrainian") {
        Sandbox().use { sandbox ->
            val rec = Recorder()
            VizochokWidget(DEMO_KEY, config(sandbox.url), rec).use { w ->
                w.connect()
                rec.awaitConnect()
                val (text, cards, streamed) = ask(w, rec, "молоко")
                assertTrue(cards.isNotEmpty()) { "no cards in $text" }
                assertTrue(cards.all { it.name.lowercase().contains("молоко") }) { "$cards" }
                assertEq(text, streamed, "the deltas add up to the reply")
                assertTrue(w.pendingActions.isEmpty()) { "the message ended: ${w.pendingActions}" }
            }
        }
    }

    test("add to cart: onProductClick, then onCartChanged with the full cart") {
        Sandbox().use { sandbox ->
            val rec = Recorder()
            VizochokWidget(DEMO_KEY, config(sandbox.url), rec).use { w ->
                w.connect()
                rec.awaitConnect()
                val (_, cards, _) = ask(w, rec, "молоко")
                assertTrue(cards.size >= 2) { "need two cards, got $cards" }
                w.selectProduct(cards[0])
                val first = rec.await("first cart") { (it as? WidgetEvent.CartChanged)?.cart }
                assertEq("item_selected", first.action, "action")
                assertEq(1, first.items.size, "one line")
                w.selectProduct(cards[1], 2 * cards[1].quantityStep)
                val second = rec.await("second cart") { (it as? WidgetEvent.CartChanged)?.cart }
                assertEq(2, second.items.size, "items is the whole cart")
                val expected = second.items.sumOf { (it.promoPrice ?: it.price) * it.quantity }
                assertTrue(Math.abs(second.total - expected) < 1e-6) { "total ${second.total} vs $expected" }
                assertEq(2, rec.all.count { it is WidgetEvent.ProductClick }, "onProductClick per add")
                assertEq(second.items, w.cart.items, "the widget's cart")
                w.clearCart()
                val cleared = rec.await("cleared") { (it as? WidgetEvent.CartChanged)?.cart }
                assertEq("cart_cleared", cleared.action, "action")
                assertTrue(cleared.items.isEmpty() && cleared.sku == null) { "$cleared" }
            }
        }
    }

    test("reconnect after a cut: a reply cut mid-stream arrives whole") {
        val settings = """{"engine": {"delta_chars": 8}, "faults": {"drop_after_frames": 5}}"""
        Sandbox(settings).use { sandbox ->
            val rec = Recorder()
            VizochokWidget(DEMO_KEY, config(sandbox.url), rec).use { w ->
                w.connect()
                rec.awaitConnect()
                val (text, cards, streamed) = ask(w, rec, "молоко")
                assertTrue(cards.isNotEmpty()) { "cards" }
                assertEq(text, streamed, "every delta arrived once, in order")
                assertTrue(rec.all.any { it == WidgetEvent.Disconnect }) { "the socket was cut" }
                assertTrue(rec.all.count { it == WidgetEvent.Connect } >= 2) { "reconnected" }
            }
        }
    }

    test("a restarted sandbox (SIGTERM, state directory) restores the whole cart on reconnect") {
        val state = kotlin.io.path.createTempDirectory("vizochok-state").toFile()
        val rec = Recorder()
        val first = Sandbox(stateDir = state)
        VizochokWidget(DEMO_KEY, config(first.url), rec).use { w ->
            w.connect()
            rec.awaitConnect()
            val (_, cards, _) = ask(w, rec, "молоко")
            w.selectProduct(cards[0], 3 * cards[0].quantityStep)
            val cart = rec.await("cart") { (it as? WidgetEvent.CartChanged)?.cart }
            first.close()
            rec.await("onDisconnect") { if (it == WidgetEvent.Disconnect) Unit else null }
            Sandbox(stateDir = state, port = first.port).use {
                w.networkOnline() // skip the backoff wait
                val summary = rec.await("restored summary") { (it as? WidgetEvent.SessionComplete)?.summary }
                assertEq(cart.items, summary.selectedItems, "the whole cart came back")
                assertEq(ConnectionState.CONNECTED, w.state, "reconnected")
            }
        }
        state.deleteRecursively()
    }

    test("auth_error: onError once, stopped, no reconnect loop, the key never shown or logged") {
        Sandbox().use { sandbox ->
            val rec = Recorder()
            VizochokWidget(CANARY_KEY, config(sandbox.url, "en"), rec).use { w ->
                w.connect()
                val error = rec.await("auth_error") { (it as? WidgetEvent.Error)?.error }
                assertEq("auth_error", error.code, "code")
                assertEq("The chat is unavailable. Please refresh the page.", error.message, "localized text")
                rec.await("stopped") { (it as? WidgetEvent.StateChanged)?.takeIf { s -> s.state == ConnectionState.STOPPED } }
                // Several backoff periods (the first is at most 1 s): nothing more may happen.
                val more = rec.events.poll(2500, TimeUnit.MILLISECONDS)
                assertTrue(more == null) { "event after auth_error: $more" }
                assertEq(ConnectionState.STOPPED, w.state, "state")
                val texts = rec.all.joinToString() + w.toString()
                assertTrue(!texts.contains(CANARY_KEY)) { "the key in an event: $texts" }
            }
            val lines = sandbox.logLines()
            assertEq(1, lines.count { it.contains("\"kind\":\"opened\"") }, "one socket, no reconnect (log: $lines)")
            assertTrue(lines.none { it.contains(CANARY_KEY) }) { "the key in the sandbox log" }
        }
    }

    test("close() releases at once: the socket closes and nothing is called back afterwards") {
        Sandbox().use { sandbox ->
            val rec = Recorder()
            val w = VizochokWidget(DEMO_KEY, config(sandbox.url), rec)
            w.connect()
            rec.awaitConnect()
            w.close()
            w.close() // idempotent
            val after = rec.all.size
            rec.await("destroyed") { (it as? WidgetEvent.StateChanged)?.takeIf { s -> s.state == ConnectionState.DESTROYED } }
            assertTrue(rec.events.poll(300, TimeUnit.MILLISECONDS) == null) { "callback after close" }
            assertEq(after, rec.all.size, "no callbacks after close returned: ${rec.all}")
        }
    }

    // ----- run -----
    val filter = System.getenv("TEST_FILTER") ?: ""
    var failed = 0
    val passed = AtomicInteger()
    for ((name, body) in tests) {
        if (!name.contains(filter)) continue
        val started = System.nanoTime()
        try {
            body()
            passed.incrementAndGet()
            println("  ok   $name (${(System.nanoTime() - started) / 1_000_000} ms)")
        } catch (e: Throwable) {
            failed++
            println("  FAIL $name\n${e.stackTraceToString().prependIndent("       ")}")
        }
    }
    println("kotlin: ${passed.get()} passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
