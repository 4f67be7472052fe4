package com.vizochok.tests

import com.vizochok.CartChangedEvent
import com.vizochok.ConnectionState
import com.vizochok.MessageEvent
import com.vizochok.ProductItem
import com.vizochok.SessionListener
import com.vizochok.SessionSummary
import com.vizochok.SessionTransport
import com.vizochok.VizochokConfig
import com.vizochok.VizochokSession
import com.vizochok.WidgetError

/**
 * Per-frame cost of the Kotlin binding on the JVM: one `socketText` call
 * (Kotlin → JNA → Rust: parse, protocol rules) plus lifting the resulting
 * records back into Kotlin and calling the listener. See docs/performance.md.
 *
 * Run: java -Djna.library.path=DIR -cp ... com.vizochok.tests.BenchKt [frames] [rounds]
 */
fun main(args: Array<String>) {
    val frames = args.getOrNull(0)?.toInt() ?: 24_000
    val rounds = args.getOrNull(1)?.toInt() ?: 7
    var events = 0L
    val listener = object : SessionListener {
        override fun onConnect() { events++ }
        override fun onDisconnect() { events++ }
        override fun onCartChanged(event: CartChangedEvent) { events += event.items.size }
        override fun onProductClick(product: ProductItem) { events++ }
        override fun onSessionComplete(summary: SessionSummary) { events++ }
        override fun onError(error: WidgetError) { events++ }
        override fun onStateChange(state: ConnectionState) { events++ }
        override fun onMessage(event: MessageEvent) { events++ }
    }
    val transport = object : SessionTransport {
        override fun openSocket(socket: ULong, url: String) {}
        override fun sendText(text: String) {}
        override fun closeSocket(socket: ULong, code: UShort, reason: String) {}
    }
    val product = { i: Int ->
        """{"sku":"DAI-00$i","name":"Молоко Галичина 2,5% 870 г","price":44.9,"unit":"pcs","quantity_step":1,""" +
            """"brand":"Галичина","image_url":"/images/DAI-00$i.svg","promo_price":null}"""
    }
    val item = { i: Int ->
        """{"sku":"DAI-00$i","name":"Молоко Галичина 2,5% 870 г","price":44.9,"promo_price":39.9,"brand":"Галичина","quantity":$i}"""
    }
    // One conversation turn of 12 frames (ack, typing, 8 deltas, response with 6 cards, cart_changed with 3 items).
    fun turn(seq: Long, id: String): List<String> {
        var s = seq
        val out = ArrayList<String>()
        out += """{"type":"ack","id":"$id"}"""
        out += """{"type":"typing","seq":${s++},"reply_to":"$id"}"""
        repeat(8) { out += """{"type":"delta","seq":${s++},"message_id":"r$seq","reply_to":"$id","text":"Ось що я знайшов "}""" }
        out += """{"type":"response","seq":${s++},"message_id":"r$seq","reply_to":"$id","text":"Ось що я знайшов","products":[${(1..6).joinToString(",") { product(it) }}]}"""
        out += """{"type":"cart_changed","seq":${s++},"action":"item_selected","sku":"DAI-001","name":"Молоко","quantity":1,"price":44.9,"items":[${(1..3).joinToString(",") { item(it) }}],"total":199.5}"""
        return out
    }
    val best = (1..rounds).minOf {
        val session = VizochokSession("pk_bench", VizochokConfig(storeId = "s", url = "ws://127.0.0.1:1/v1/ws"), 1uL, listener, transport)
        var now = 0uL
        session.connect(now)
        session.socketOpened(now, 1uL)
        session.socketText(now, 1uL, """{"type":"auth_ok","session_id":"s1","restored":false,"replay":false}""")
        var seq = 1L
        val batch = ArrayList<String>(frames)
        while (batch.size < frames) {
            batch += turn(seq, "m$seq")
            seq += 11
        }
        val started = System.nanoTime()
        for (frame in batch.subList(0, frames)) session.socketText(now++, 1uL, frame)
        val elapsed = System.nanoTime() - started
        check(session.state() == ConnectionState.CONNECTED)
        session.close()
        elapsed
    }
    println("kotlin/JVM: ${best / frames} ns per frame (best of $rounds rounds of $frames frames; $events events)")

    // The same call when the core produces no output (a stale seq is ignored): the bare Kotlin→Rust call.
    val quiet = (1..rounds).minOf {
        val session = VizochokSession("pk_bench", VizochokConfig(storeId = "s", url = "ws://127.0.0.1:1/v1/ws"), 1uL, listener, transport)
        session.connect(0uL)
        session.socketOpened(0uL, 1uL)
        session.socketText(0uL, 1uL, """{"type":"auth_ok","session_id":"s1","restored":false,"replay":false}""")
        session.socketText(0uL, 1uL, """{"type":"typing","seq":1000000,"reply_to":"m"}""")
        val stale = """{"type":"delta","seq":5,"message_id":"r1","reply_to":"m1","text":"Ось що я знайшов "}"""
        val started = System.nanoTime()
        for (i in 0 until frames) session.socketText(0uL, 1uL, stale)
        val elapsed = System.nanoTime() - started
        session.close()
        elapsed
    }
    println("kotlin/JVM: ${quiet / frames} ns per ignored frame (no callback)")
}
