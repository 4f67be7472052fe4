package com.vizochok.tests

import com.vizochok.Callbacks
import com.vizochok.Reports
import com.vizochok.SessionStore
import com.vizochok.Transport
import com.vizochok.VizochokConfig
import com.vizochok.VizochokWidget
import com.vizochok.blocks
import com.vizochok.core.Event
import com.vizochok.core.State
import com.vizochok.proto.Block
import com.vizochok.proto.Cart
import com.vizochok.proto.CartChangedEvent
import com.vizochok.proto.CartItem
import com.vizochok.proto.HistoryEntry
import com.vizochok.proto.PageContext
import com.vizochok.proto.PageInfo
import com.vizochok.proto.ProductItem
import com.vizochok.proto.Rating
import com.vizochok.proto.Reply
import com.vizochok.proto.SessionSummary
import com.vizochok.proto.WidgetError
import java.io.File
import java.util.logging.Handler
import java.util.logging.Level
import java.util.logging.LogRecord
import java.util.logging.Logger

/**
 * One `scenarios/NAME.json` (docs/scenarios.md) through the public
 * [VizochokWidget]: a scripted [Transport] plays the network, the clock, the
 * timer and the seed, the app's [Callbacks] and [SessionStore] record, and
 * the `com.vizochok` logger's errors are seen. Every output lands in one
 * list, in the order the widget produced it (the runner logic of
 * `crates/vizochok-testkit`, in Kotlin).
 */
class ScenarioRig(scenario: Map<*, *>) {
    private val out = ArrayList<Any?>()
    private var now = 0uL
    private var armed: ULong? = null
    private var socket: Pair<ULong, Reports>? = null
    private var timer: Reports? = null
    private val observe = (scenario["observe"] as List<*>?).orEmpty()
    private val names = HashMap<String, String>()
    private val ids = HashMap<String, String>()
    private val throws = HashSet<String>()
    private val calls = HashMap<String, Map<*, *>>()
    /** A refusal returned inside a callback: its code is the `onError` that follows. */
    private var rejection: MutableMap<String, Any?>? = null
    private val widget: VizochokWidget

    init {
        val c = scenario["config"] as Map<*, *>? ?: emptyMap<String, Any?>()
        val config = VizochokConfig(STORE_ID, URL, c["user_id"] as String?, c["language"] as String? ?: "en")
        val seed = (c["seed"] as Double? ?: 1.0).toLong().toULong()
        widget = VizochokWidget(API_KEY, config, App(), c["user_token"] as String?, Store(c["session_id"] as String?), Scripted(seed))
    }

    /** Runs one step; its normalized outputs. */
    fun step(step: Map<*, *>): List<Any?> {
        val start = out.size
        when {
            "recv" in step -> socket().let { (s, r) -> r.text(s, Json.write(substitute(step["recv"]))) }
            "recv_text" in step -> socket().let { (s, r) -> r.text(s, step["recv_text"] as String) }
            "advance" in step -> advance((step["advance"] as Double).toLong().toULong())
            "read" in step -> out += mapOf("read" to read(step["read"] as String))
            "app" in step -> when (step["app"]) {
                "throws" -> throws += step["on"] as String
                "calls" -> calls[step["on"] as String] = step["then"] as Map<*, *>
                else -> error("unknown app rule $step")
            }
            else -> when (step["do"]) {
                "socket_opened" -> socket().let { (s, r) -> r.opened(s) }
                "binary" -> socket().let { (s, r) -> r.binary(s, (step["len"] as Double).toInt()) }
                "socket_closed" -> socket().let { (s, r) -> r.ended(s, (step["code"] as Double?)?.toInt(), "") }
                "socket_error" -> socket().let { (s, r) -> r.ended(s, null, "refused") }
                "timer_fires" -> timer!!.timerFired()
                else -> {
                    val result = call(step)
                    val refused = out.subList(start, out.size).firstNotNullOfOrNull { errorCode(it) }
                    outcome(step, result, refused)?.let { out.add(start, it) }
                }
            }
        }
        return out.subList(start, out.size).map { unsubstitute(it) }
    }

    private fun socket() = socket ?: error("no socket was opened")

    private fun advance(ms: ULong) {
        val target = now + ms
        repeat(10_000) {
            val due = armed?.takeIf { it <= target } ?: run { now = target; return }
            now = maxOf(now, due)
            armed = null
            timer!!.timerFired()
        }
        error("the timer fired 10000 times in one advance: stuck")
    }

    private fun read(what: String): Any? = when (what) {
        "pending_actions" -> widget.pendingActions.map {
            mapOf("id" to it.id, "kind" to it.kind.name.lowercase(), "sent" to it.sent)
        }
        "state" -> widget.state.name.lowercase()
        "session_id" -> widget.sessionId
        "cart" -> widget.cart.let { mapOf("items" to it.items.map(::item), "total" to it.total) }
        else -> error("unknown read $what")
    }

    /** What a widget call returned: an id, `null` (refused, or nothing to stop), nothing, or a thrown error. */
    private sealed interface Result {
        data class Id(val id: String?) : Result
        data object Done : Result
        data class Threw(val output: Map<String, Any?>) : Result
    }

    private fun call(step: Map<*, *>): Result {
        val w = widget
        val id = try {
            when (step["do"]) {
                "connect" -> return Result.Done.also { w.connect() }
                "disconnect" -> return Result.Done.also { w.disconnect() }
                "destroy" -> return Result.Done.also { w.close() }
                "network_online" -> return Result.Done.also { w.networkOnline() }
                "reset" -> return Result.Done.also { w.reset() }
                "send_message" -> w.sendMessage(step["text"] as String)
                "select_product" -> w.selectProduct(product(step["product"] as Map<*, *>), step["quantity"] as Double?)
                "update_quantity" -> w.updateQuantity(step["sku"] as String, step["quantity"] as Double)
                "remove_item" -> w.removeItem(step["sku"] as String)
                "clear_cart" -> w.clearCart()
                "set_context" -> w.setContext(context(substitute(step["context"]) as Map<*, *>))
                "stop" -> w.stop()
                "feedback" -> w.feedback(
                    substitute(step["message_id"]) as String,
                    Rating.valueOf((step["rating"] as String).uppercase()),
                    step["comment"] as String?,
                )
                else -> error("unknown step $step")
            }
        } catch (e: IllegalArgumentException) {
            return Result.Threw(mapOf("invalid" to true))
        } catch (e: IllegalStateException) {
            return Result.Threw(mapOf("destroyed" to true))
        }
        return Result.Id(id)
    }

    /** The normalized outcome of a call, if any; names an accepted id. `refused`: the code of an `onError` it caused. */
    private fun outcome(step: Map<*, *>, result: Result, refused: String?): MutableMap<String, Any?>? = when (result) {
        is Result.Done -> null
        is Result.Threw -> result.output.toMutableMap()
        is Result.Id -> when {
            result.id != null -> null.also {
                (step["as"] as String?)?.let { name ->
                    names[name] = result.id
                    ids[result.id] = "$$name"
                }
            }
            step["do"] == "stop" && refused == null -> mutableMapOf("stopped" to null)
            else -> mutableMapOf("rejected" to refused)
        }
    }

    private fun errorCode(output: Any?): String? =
        ((output as? Map<*, *>)?.takeIf { it["on"] == "error" }?.get("data") as Map<*, *>?)?.get("code") as String?

    private fun substitute(v: Any?): Any? = when (v) {
        is String -> if (v.startsWith("$")) names[v.substring(1)] ?: v else v
        is Map<*, *> -> v.entries.associate { (k, x) -> k to substitute(x) }
        is List<*> -> v.map { substitute(it) }
        else -> v
    }

    private fun unsubstitute(v: Any?): Any? = when (v) {
        is String -> ids[v] ?: v
        is Map<*, *> -> v.entries.associate { (k, x) -> k to unsubstitute(x) }
        is List<*> -> v.map { unsubstitute(it) }
        else -> v
    }

    /** An event reached the app: record it, then throw or call as the scenario says. */
    private fun record(callback: String, output: Map<String, Any?>) {
        out += output
        errorCode(output)?.let { code -> rejection?.let { it["rejected"] = code; rejection = null } }
        if (callback in throws) throw RuntimeException("the app's callback threw")
        val then = calls.remove(callback) ?: return
        val result = call(then)
        val value = outcome(then, result, null)
        if (value != null) {
            out += value
            if (value.containsKey("rejected")) rejection = value
        }
    }

    private inner class App : Callbacks {
        override fun onConnect() = record("connect", mapOf("on" to "connect"))
        override fun onDisconnect() = record("disconnect", mapOf("on" to "disconnect"))
        override fun onCartChanged(cart: CartChangedEvent) =
            record("cart_changed", mapOf("on" to "cart_changed", "data" to cartChanged(cart)))
        override fun onProductClick(product: ProductItem) =
            record("product_click", mapOf("on" to "product_click", "data" to product(product)))
        override fun onSessionComplete(summary: SessionSummary) =
            record("session_complete", mapOf("on" to "session_complete", "data" to summary(summary)))
        override fun onError(error: WidgetError) = record("error", mapOf("on" to "error", "data" to error(error)))
        override fun onStateChange(state: State) = record("state", mapOf("state" to state.name.lowercase()))
        override fun onMessage(event: Event) = record("message", ui(event))
    }

    private fun ui(event: Event): Map<String, Any?> = when (event) {
        is Event.Typing -> ui("typing", event.replyTo?.let { mapOf("reply_to" to it) } ?: emptyMap<String, Any?>())
        is Event.Delta -> ui("delta", mapOf("message_id" to event.messageId, "reply_to" to event.replyTo, "text" to event.text))
        is Event.Response -> ui("response", response(event.v1))
        is Event.UserMessage -> ui("user_message", mapOf("id" to event.id, "text" to event.text))
        is Event.History -> ui("history", event.v1.map(::history))
        is Event.Acknowledged -> ui("ack", mapOf("id" to event.id))
        else -> error("not a UI event: $event")
    }

    private fun ui(kind: String, data: Any?) = mapOf("ui" to kind, "data" to data)

    private fun response(r: Reply): Map<String, Any?> {
        val m = linkedMapOf<String, Any?>("message_id" to r.messageId, "reply_to" to r.replyTo, "text" to r.text,
            "products" to r.products.map(::product))
        if (r.cancelled) m["cancelled"] = true
        if (r.suggestions.isNotEmpty()) m["suggestions"] = r.suggestions
        if ("blocks" in observe) m["blocks"] = r.blocks.map(::block)
        return m
    }

    private inner class Scripted(private val seed: ULong) : Transport {
        override fun now() = this@ScenarioRig.now
        override fun open(socket: ULong, url: String, reports: Reports) {
            this@ScenarioRig.socket = socket to reports
            out += mapOf("open" to true)
        }
        override fun send(socket: ULong, text: String) {
            out += mapOf("send" to Json.parse(text))
        }
        override fun close(socket: ULong, code: Int, reason: String) {
            out += mapOf("close" to code.toDouble())
        }
        override fun setTimer(deadline: ULong?, reports: Reports) {
            timer = reports
            armed = deadline
            if ("timer" in observe) out += mapOf("timer" to deadline?.toDouble())
        }
        override fun seed() = seed
    }

    /** The app's store: it hands back the scenario's saved id and records what is saved. */
    private inner class Store(private val saved: String?) : SessionStore {
        override fun load() = saved
        override fun save(sessionId: String?) {
            if ("save" in observe) out += mapOf("save" to sessionId)
        }
    }

    companion object {
        const val API_KEY = "pk_scenario"
        const val STORE_ID = "scenario-store"
        const val URL = "ws://127.0.0.1:8787/v1/ws"

        /** The rig whose widget logs now (scenarios run one at a time). */
        private var current: ScenarioRig? = null

        /** The widget's logger, held so that its handler stays (loggers are kept weakly). */
        private val logger = Logger.getLogger("com.vizochok").apply {
            addHandler(object : Handler() {
                override fun publish(record: LogRecord) {
                    if (record.level == Level.SEVERE) current?.out?.add(mapOf("log" to "error"))
                }
                override fun flush() {}
                override fun close() {}
            })
        }

        fun error(e: WidgetError): Map<String, Any?> {
            val m = linkedMapOf<String, Any?>("code" to e.code.name.lowercase())
            e.replyTo?.let { m["reply_to"] = it }
            return m
        }

        fun item(i: CartItem) = mapOf("sku" to i.sku, "name" to i.name, "price" to i.price,
            "promo_price" to i.promoPrice, "brand" to i.brand, "quantity" to i.quantity)

        fun product(p: ProductItem): Map<String, Any?> {
            val m = linkedMapOf<String, Any?>("sku" to p.sku, "name" to p.name, "price" to p.price, "unit" to p.unit,
                "quantity_step" to p.quantityStep)
            p.quantity?.let { m["quantity"] = it }
            m += mapOf("brand" to p.brand, "image_url" to p.imageUrl, "promo_price" to p.promoPrice)
            return m
        }

        fun product(m: Map<*, *>) = ProductItem(
            sku = m["sku"] as String, name = m["name"] as String, price = m["price"] as Double,
            unit = m["unit"] as String, quantityStep = m["quantity_step"] as Double,
            quantity = m["quantity"] as Double?, brand = m["brand"] as String?,
            imageUrl = m["image_url"] as String?, promoPrice = m["promo_price"] as Double?)

        fun context(m: Map<*, *>) = PageContext(
            page = (m["page"] as Map<*, *>?)?.let { PageInfo(it["url"] as String?, it["title"] as String?) },
            sku = m["sku"] as String?, category = m["category"] as String?, query = m["query"] as String?,
            locale = m["locale"] as String?, currency = m["currency"] as String?)

        fun summary(s: SessionSummary) = mapOf("selected_items" to s.selectedItems.map(::item), "total" to s.total,
            "item_count" to s.itemCount.toDouble())

        fun cartChanged(e: CartChangedEvent): Map<String, Any?> {
            val m = linkedMapOf<String, Any?>("action" to e.action.name.lowercase())
            e.sku?.let { m["sku"] = it }
            e.name?.let { m["name"] = it }
            e.quantity?.let { m["quantity"] = it }
            e.price?.let { m["price"] = it }
            m += mapOf("items" to e.items.map(::item), "total" to e.total)
            return m
        }

        fun history(h: HistoryEntry): Map<String, Any?> {
            val m = linkedMapOf<String, Any?>("role" to h.role.name.lowercase(), "text" to h.text)
            h.products?.let { ps -> m["products"] = ps.map(::product) }
            h.messageId?.let { m["message_id"] = it }
            h.rating?.let { m["rating"] = it.name.lowercase() }
            return m
        }

        fun block(b: Block): Map<String, Any?> {
            val m = linkedMapOf<String, Any?>("kind" to b.kind.name.lowercase())
            b.number?.let { m["number"] = it.toDouble() }
            m["spans"] = b.spans.map { s ->
                linkedMapOf<String, Any?>("text" to s.text, "bold" to s.bold, "italic" to s.italic)
                    .also { span -> s.link?.let { span["link"] = it } }
            }
            return m
        }

        /** `expected` matches `actual`: `"*"` matches anything, numbers compare as numbers. */
        fun matches(expected: Any?, actual: Any?): Boolean = when {
            expected == "*" -> true
            expected is Number && actual is Number -> expected.toDouble() == actual.toDouble()
            expected is List<*> && actual is List<*> ->
                expected.size == actual.size && expected.indices.all { matches(expected[it], actual[it]) }
            expected is Map<*, *> && actual is Map<*, *> ->
                expected.size == actual.size && expected.all { (k, v) -> actual.containsKey(k) && matches(v, actual[k]) }
            else -> expected == actual
        }

        /** Replays one file; its step count, or throws with the first mismatch. */
        fun runFile(file: File): Int {
            val scenario = Json.parse(file.readText()) as Map<*, *>
            val name = scenario["name"] as String
            check((scenario["covers"] as List<*>?).orEmpty().isNotEmpty()) { "${file.name}: covers is empty" }
            val rig = ScenarioRig(scenario)
            current = rig
            logger.useParentHandlers = false // the callbacks a scenario makes throw are expected
            try {
                val steps = scenario["steps"] as List<*>
                steps.forEachIndexed { i, s ->
                    val step = s as Map<*, *>
                    val actual = rig.step(step)
                    check(matches(step["expect"], actual)) {
                        "${file.name} ($name)\n  step $i: ${Json.write(step.filterKeys { it != "expect" })}\n" +
                            "  expected: ${Json.write(step["expect"])}\n  actual:   ${Json.write(actual)}"
                    }
                }
                return steps.size
            } finally {
                current = null
                logger.useParentHandlers = true
            }
        }
    }
}
