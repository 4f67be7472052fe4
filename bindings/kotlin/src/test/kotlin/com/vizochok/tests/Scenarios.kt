package com.vizochok.tests

import com.vizochok.CartChangedEvent
import com.vizochok.CartItem
import com.vizochok.ConnectionState
import com.vizochok.HistoryEntry
import com.vizochok.MessageEvent
import com.vizochok.ProductItem
import com.vizochok.SessionListener
import com.vizochok.SessionSummary
import com.vizochok.SessionTransport
import com.vizochok.VizochokConfig
import com.vizochok.VizochokException
import com.vizochok.VizochokSession
import com.vizochok.WidgetError
import java.io.File

/**
 * Replays every `scenarios/NAME.json` (docs/scenarios.md) through the public
 * [VizochokSession]: its transport and listener record normalized outputs
 * into one list, in the order the session delivers them.
 */
class ScenarioRunner(config: Map<String, Any?>) : SessionListener, SessionTransport {
    private val out = ArrayList<Any?>()
    private var now = 0uL
    private var socket = 0uL
    private val names = HashMap<String, String>()
    private val ids = HashMap<String, String>()
    val session: VizochokSession

    init {
        val seed = (config["seed"] as Double? ?: 1.0).toLong().toULong()
        val cfg = VizochokConfig(
            storeId = "scenario-store",
            url = "ws://127.0.0.1:8787/v1/ws",
            userId = config["user_id"] as String?,
            language = config["language"] as String? ?: "en",
            sessionId = config["session_id"] as String?,
            lastSeq = (config["last_seq"] as Double? ?: 0.0).toLong().toULong(),
        )
        session = VizochokSession("pk_scenario", cfg, seed, this, this)
    }

    /** Runs one step and returns its normalized outputs. */
    fun step(step: Map<String, Any?>): List<Any?> {
        out.clear()
        when {
            "recv" in step -> session.socketText(now, socket, Json.write(substitute(step["recv"])))
            "recv_text" in step -> session.socketText(now, socket, step["recv_text"] as String)
            "advance" in step -> {
                val target = now + (step["advance"] as Double).toLong().toULong()
                var fired = 0
                while (true) {
                    val deadline = session.pollTimeout() ?: break
                    if (deadline > target) break
                    if (deadline > now) now = deadline
                    session.timeout(now)
                    check(++fired < 10_000) { "poll_timeout stuck at $deadline" }
                }
                now = target
            }
            "do" in step -> act(step["do"] as String, step)
            else -> error("unknown step ${Json.write(step)}")
        }
        return out.map { unsubstitute(it) }
    }

    private fun act(action: String, step: Map<String, Any?>) {
        val id: String? = try {
            when (action) {
                "connect" -> session.connect(now).let { null }
                "socket_opened" -> session.socketOpened(now, socket).let { null }
                "binary" -> session.socketBinary(now, socket, (step["len"] as Double).toLong().toULong()).let { null }
                "socket_closed" -> session.socketClosed(now, socket, (step["code"] as Double?)?.toInt()?.toUShort(), "")
                    .let { null }
                "socket_error" -> session.socketError(now, socket, "refused").let { null }
                "network_online" -> session.networkOnline(now).let { null }
                "close" -> session.disconnect(now).let { null }
                "destroy" -> session.shutdown(now).let { null }
                "send_message" -> session.sendMessage(now, step["text"] as String)
                "select_product" -> session.selectProduct(
                    now, product(step["product"] as Map<*, *>), step["quantity"] as Double?)
                "update_quantity" -> session.updateQuantity(now, step["sku"] as String, step["quantity"] as Double)
                "remove_item" -> session.removeItem(now, step["sku"] as String)
                "clear_cart" -> session.clearCart(now)
                "reset" -> session.reset(now).let { null }
                else -> error("unknown action $action")
            }
        } catch (e: VizochokException.Rejected) {
            out.add(0, mapOf("rejected" to e.code)); null
        } catch (e: VizochokException.InvalidArgument) {
            out.add(0, mapOf("invalid" to true)); null
        } catch (e: VizochokException.Destroyed) {
            out.add(0, mapOf("destroyed" to true)); null
        }
        val name = step["as"] as String?
        if (id != null && name != null) {
            names[name] = id
            ids[id] = "$$name"
        }
    }

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

    // ----- transport -----
    override fun openSocket(socket: ULong, url: String) {
        this.socket = socket
        out.add(mapOf("open" to true))
    }

    override fun sendText(text: String) {
        out.add(mapOf("send" to Json.parse(text)))
    }

    override fun closeSocket(socket: ULong, code: UShort, reason: String) {
        out.add(mapOf("close" to code.toDouble()))
    }

    // ----- listener -----
    override fun onConnect() { out.add(mapOf("on" to "connect")) }
    override fun onDisconnect() { out.add(mapOf("on" to "disconnect")) }
    override fun onCartChanged(event: CartChangedEvent) { out.add(mapOf("on" to "cart_changed", "data" to cart(event))) }
    override fun onProductClick(product: ProductItem) { out.add(mapOf("on" to "product_click", "data" to product(product))) }
    override fun onSessionComplete(summary: SessionSummary) {
        out.add(mapOf("on" to "session_complete", "data" to summary(summary)))
    }
    override fun onError(error: WidgetError) {
        val data = linkedMapOf<String, Any?>("code" to error.code)
        error.replyTo?.let { data["reply_to"] = it }
        out.add(mapOf("on" to "error", "data" to data))
    }
    override fun onStateChange(state: ConnectionState) { out.add(mapOf("state" to state.name.lowercase())) }
    override fun onMessage(event: MessageEvent) {
        out.add(when (event) {
            is MessageEvent.Typing -> mapOf("ui" to "typing", "data" to (event.replyTo?.let { mapOf("reply_to" to it) } ?: emptyMap()))
            is MessageEvent.Delta -> mapOf("ui" to "delta", "data" to mapOf(
                "message_id" to event.messageId, "reply_to" to event.replyTo, "text" to event.text))
            is MessageEvent.Response -> mapOf("ui" to "response", "data" to mapOf(
                "message_id" to event.messageId, "reply_to" to event.replyTo, "text" to event.text,
                "products" to event.products.map { product(it) }))
            is MessageEvent.History -> mapOf("ui" to "history", "data" to event.entries.map { history(it) })
            is MessageEvent.Acknowledged -> mapOf("ui" to "ack", "data" to mapOf("id" to event.id))
        })
    }

    companion object {
        fun item(i: CartItem) = linkedMapOf<String, Any?>(
            "sku" to i.sku, "name" to i.name, "price" to i.price, "promo_price" to i.promoPrice,
            "brand" to i.brand, "quantity" to i.quantity)

        fun product(p: ProductItem): Map<String, Any?> {
            val m = linkedMapOf<String, Any?>("sku" to p.sku, "name" to p.name, "price" to p.price, "unit" to p.unit,
                "quantity_step" to p.quantityStep)
            p.quantity?.let { m["quantity"] = it }
            m["brand"] = p.brand
            m["image_url"] = p.imageUrl
            m["promo_price"] = p.promoPrice
            return m
        }

        fun product(m: Map<*, *>) = ProductItem(
            sku = m["sku"] as String, name = m["name"] as String, price = m["price"] as Double,
            unit = m["unit"] as String, quantityStep = m["quantity_step"] as Double,
            quantity = m["quantity"] as Double?, brand = m["brand"] as String?,
            imageUrl = m["image_url"] as String?, promoPrice = m["promo_price"] as Double?)

        fun summary(s: SessionSummary) = linkedMapOf<String, Any?>(
            "selected_items" to s.selectedItems.map { item(it) }, "total" to s.total,
            "item_count" to s.itemCount.toDouble())

        fun cart(e: CartChangedEvent): Map<String, Any?> {
            val m = linkedMapOf<String, Any?>("action" to e.action)
            e.sku?.let { m["sku"] = it }
            e.name?.let { m["name"] = it }
            e.quantity?.let { m["quantity"] = it }
            e.price?.let { m["price"] = it }
            m["items"] = e.items.map { item(it) }
            m["total"] = e.total
            return m
        }

        fun history(h: HistoryEntry): Map<String, Any?> {
            val m = linkedMapOf<String, Any?>("role" to h.role.name.lowercase(), "text" to h.text)
            h.products?.let { ps -> m["products"] = ps.map { product(it) } }
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

        /** Replays one file; returns the number of steps, or throws with the first mismatch. */
        fun runFile(file: File): Int {
            val scenario = Json.parse(file.readText()) as Map<*, *>
            val name = scenario["name"] as String
            check((scenario["covers"] as List<*>).isNotEmpty()) { "${file.name}: covers is empty" }
            @Suppress("UNCHECKED_CAST")
            val runner = ScenarioRunner((scenario["config"] as Map<String, Any?>?) ?: emptyMap())
            try {
                val steps = scenario["steps"] as List<*>
                steps.forEachIndexed { i, s ->
                    @Suppress("UNCHECKED_CAST")
                    val step = s as Map<String, Any?>
                    val actual = runner.step(step)
                    val expected = step["expect"]
                    check(matches(expected, actual)) {
                        "${file.name} ($name)\n  step $i: ${Json.write(step - "expect")}\n" +
                            "  expected: ${Json.write(expected)}\n  actual:   ${Json.write(actual)}"
                    }
                }
                return steps.size
            } finally {
                runner.session.close()
            }
        }
    }
}
