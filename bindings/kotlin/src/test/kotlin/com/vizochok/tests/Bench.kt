package com.vizochok.tests

import com.vizochok.Callbacks
import com.vizochok.Reports
import com.vizochok.Transport
import com.vizochok.VizochokConfig
import com.vizochok.VizochokWidget
import com.vizochok.core.Event
import com.vizochok.core.State
import com.vizochok.proto.CartChangedEvent

/**
 * Per-frame cost of the Kotlin widget on the JVM: one socket report
 * (Kotlin → JNA → the Rust driver: parse, protocol rules) plus the events
 * lifted back into Kotlin and handed to the app's callbacks.
 *
 * Run: java -Djna.library.path=DIR -cp ... com.vizochok.tests.BenchKt [frames] [rounds]
 */
fun main(args: Array<String>) {
    val frames = args.getOrNull(0)?.toInt() ?: 24_000
    val rounds = args.getOrNull(1)?.toInt() ?: 7
    var events = 0L
    val callbacks = object : Callbacks {
        override fun onCartChanged(cart: CartChangedEvent) { events += cart.items.size }
        override fun onMessage(event: Event) { events++ }
        override fun onStateChange(state: State) { events++ }
        override fun onConnect() { events++ }
    }
    /** A network that opens one socket and drops what is sent; the bench reports frames on it. */
    class Quiet : Transport {
        var clock = 0uL
        lateinit var reports: Reports
        override fun now() = clock
        override fun open(socket: ULong, url: String, reports: Reports) { this.reports = reports }
        override fun send(socket: ULong, text: String) {}
        override fun close(socket: ULong, code: Int, reason: String) {}
        override fun setTimer(deadline: ULong?, reports: Reports) {}
    }
    fun connected(): Pair<VizochokWidget, Quiet> {
        val net = Quiet()
        val widget = VizochokWidget("pk_bench", VizochokConfig(storeId = "s", url = "ws://127.0.0.1:1/v1/ws"), callbacks, transport = net)
        widget.connect()
        net.reports.opened(1uL)
        net.reports.text(1uL, """{"type":"auth_ok","session_id":"s1","restored":false,"replay":false}""")
        check(widget.state == State.CONNECTED)
        return widget to net
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
        val (widget, net) = connected()
        var seq = 1L
        val batch = ArrayList<String>(frames)
        while (batch.size < frames) {
            batch += turn(seq, "m$seq")
            seq += 11
        }
        val started = System.nanoTime()
        for (frame in batch.subList(0, frames)) {
            net.clock++
            net.reports.text(1uL, frame)
        }
        val elapsed = System.nanoTime() - started
        check(widget.state == State.CONNECTED)
        widget.close()
        elapsed
    }
    println("kotlin/JVM: ${best / frames} ns per frame (best of $rounds rounds of $frames frames; $events events)")

    // The same call when the core produces no output (a stale seq is ignored): the bare Kotlin→Rust call.
    val quiet = (1..rounds).minOf {
        val (widget, net) = connected()
        net.reports.text(1uL, """{"type":"typing","seq":1000000,"reply_to":"m"}""")
        val stale = """{"type":"delta","seq":5,"message_id":"r1","reply_to":"m1","text":"Ось що я знайшов "}"""
        val started = System.nanoTime()
        for (i in 0 until frames) net.reports.text(1uL, stale)
        val elapsed = System.nanoTime() - started
        widget.close()
        elapsed
    }
    println("kotlin/JVM: ${quiet / frames} ns per ignored frame (no callback)")
}
