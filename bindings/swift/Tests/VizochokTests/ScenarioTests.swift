import Foundation
import XCTest
import Vizochok

/// The shared scenario suite through the public `VizochokWidget`, and the
/// widget's own rules without a network.
final class ScenarioTests: XCTestCase {
    func testEveryScenarioFileReplaysExactlyThroughTheWidget() throws {
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["VIZOCHOK_SCENARIOS"] ?? "../../scenarios")
        let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        XCTAssertFalse(files.isEmpty, "no scenario files in \(dir.path)")
        var failures: [String] = []
        var steps = 0
        for file in files {
            do {
                steps += try ScenarioRig.run(file: file)
            } catch {
                failures.append("\(file.lastPathComponent): \(error)")
            }
        }
        print("    swift widget: \(files.count) scenario files, \(steps) steps, \(failures.count) failed")
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n\n"))
    }

    func testTheMatcherIsStrictWhereItMustBe() throws {
        XCTAssertTrue(ScenarioRig.matches(try J.parse(#"[{"a":2}]"#), try J.parse(#"[{"a":2.0}]"#)))
        XCTAssertFalse(ScenarioRig.matches(try J.parse(#"[{"a":1}]"#), try J.parse(#"[{"a":1},{"b":2}]"#)))
        XCTAssertFalse(ScenarioRig.matches(try J.parse(#"{"a":null}"#), try J.parse("{}")), "null is not absent")
        XCTAssertFalse(ScenarioRig.matches(.str("x"), .str("*")))
        XCTAssertFalse(ScenarioRig.matches(.num(1), .bool(true)), "a boolean is not a number")
    }

    func testABadConfigIsRefusedAndNeverShowsTheKeyOrTheToken() {
        let key = "pk_canary_swift_51c2", token = "tok_canary_swift_9e01"
        for url in ["ws://shop.example.com/v1/ws", "http://127.0.0.1/", "wss://\(key)@host/v1/ws", "ws://?k=\(key)",
                    "ws://127.0.0.1/v1/ws?t=\(token)"] {
            let config = VizochokConfig(storeId: "s", url: url)
            XCTAssertThrowsError(try VizochokWidget(apiKey: key, config: config, userToken: token)) { error in
                guard case VizochokError.InvalidConfig = error else { return XCTFail("\(error)") }
                let shown = "\(error) \(error.localizedDescription) \(String(reflecting: error))"
                XCTAssertFalse(shown.contains(key) || shown.contains(token), shown)
            }
        }
        let config = VizochokConfig(storeId: "demo-store", url: "ws://127.0.0.1:1/v1/ws")
        let widget = try? VizochokWidget(apiKey: key, config: config, userToken: token)
        XCTAssertNotNil(widget)
        let shown = "\(String(describing: widget)) \(config) \(String(reflecting: config))"
        XCTAssertFalse(shown.contains(key) || shown.contains(token), shown)
        widget?.close()
    }

    func testWrongCallsThrowARefusalIsNilAndCloseKeepsTheReads() throws {
        let errors = Box<[WidgetError]>([])
        let widget = try VizochokWidget(
            apiKey: "pk_demo", config: VizochokConfig(storeId: "demo-store", url: "ws://127.0.0.1:1/v1/ws"),
            callbacks: VizochokCallbacks(onError: { e in errors.mutate { $0.append(e) } }))
        XCTAssertThrowsError(try widget.sendMessage("   ")) {
            guard case VizochokError.InvalidArgument = $0 else { return XCTFail("\($0)") }
        }
        let milk = ProductItem(sku: "milk-1", name: "Молоко", price: 40, unit: "pcs", quantityStep: 1)
        XCTAssertThrowsError(try widget.selectProduct(milk, quantity: 1.5)) {
            guard case VizochokError.InvalidArgument = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertTrue(errors.value.isEmpty, "a wrong call is no onError")
        XCTAssertNil(try widget.sendMessage(String(repeating: "x", count: 2001)), "a message too large is refused")
        XCTAssertEqual(errors.value.map(\.code), [.messageTooLarge], "and onError told why")
        let queued = try XCTUnwrap(try widget.sendMessage("молоко"), "queued while idle")
        widget.close()
        widget.close()
        XCTAssertThrowsError(try widget.clearCart()) { XCTAssertEqual($0 as? VizochokError, .Destroyed) }
        XCTAssertEqual(widget.state, .destroyed)
        XCTAssertEqual(widget.pendingActions.map(\.id), [queued], "the queued message stays readable")
        XCTAssertEqual(uiText(key: "send", language: "uk"), "Надіслати")
        XCTAssertEqual(errorMessage(code: .connectionLost, language: "de"), "Connection lost. Reconnecting…")
    }
}

/// A value shared with callbacks that run on other threads.
final class Box<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: T
    init(_ value: T) { _value = value }
    var value: T { lock.lock(); defer { lock.unlock() }; return _value }
    func mutate(_ f: (inout T) -> Void) { lock.lock(); f(&_value); lock.unlock() }
}
