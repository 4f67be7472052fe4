import Foundation
import XCTest
@testable import Vizochok

/// Sans-IO: the shared scenario suite through `VizochokSession`, and the
/// session API itself without a network.
final class ScenarioTests: XCTestCase {
    func testEveryScenarioFileReplaysExactly() throws {
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["VIZOCHOK_SCENARIOS"] ?? "../../scenarios")
        let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        XCTAssertFalse(files.isEmpty, "no scenario files in \(dir.path)")
        var failures: [String] = []
        var steps = 0
        for file in files {
            do {
                steps += try ScenarioRunner.run(file: file)
            } catch {
                failures.append("\(file.lastPathComponent): \(error)")
            }
        }
        print("    \(files.count) scenario files, \(steps) steps, \(failures.count) failed")
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n\n"))
    }

    func testTheMatcherIsStrictWhereItMustBe() throws {
        XCTAssertTrue(ScenarioRunner.matches(try J.parse(#"[{"a":2}]"#), try J.parse(#"[{"a":2.0}]"#)))
        XCTAssertFalse(ScenarioRunner.matches(try J.parse(#"[{"a":1}]"#), try J.parse(#"[{"a":1},{"b":2}]"#)))
        XCTAssertFalse(ScenarioRunner.matches(try J.parse(#"{"a":null}"#), try J.parse("{}")), "null is not absent")
        XCTAssertFalse(ScenarioRunner.matches(.str("x"), .str("*")))
        XCTAssertFalse(ScenarioRunner.matches(.num(1), .bool(true)), "a boolean is not a number")
    }

    func testABadConfigIsRefusedAndNeverShowsTheKey() {
        let canary = "pk_canary_swift_51c2"
        for url in ["ws://shop.example.com/v1/ws", "http://127.0.0.1/", "wss://\(canary)@host/v1/ws"] {
            XCTAssertThrowsError(try VizochokWidget(apiKey: canary, config: VizochokConfig(storeId: "s", url: url))) { error in
                guard case VizochokError.InvalidConfig = error else { return XCTFail("\(error)") }
                XCTAssertFalse("\(error) \(error.localizedDescription) \(String(reflecting: error))".contains(canary))
            }
        }
        let config = VizochokConfig(storeId: "demo-store", url: "ws://127.0.0.1:1/v1/ws")
        let widget = try? VizochokWidget(apiKey: canary, config: config)
        XCTAssertNotNil(widget)
        XCTAssertFalse("\(String(describing: widget)) \(config) \(String(reflecting: config))".contains(canary))
        widget?.close()
    }

    func testMisuseThrowsAndTooLongIsRejectedAndTextsAreLocalized() throws {
        let errors = Box<[WidgetError]>([])
        let widget = try VizochokWidget(
            apiKey: "pk_demo", config: VizochokConfig(storeId: "demo-store", url: "ws://127.0.0.1:1/v1/ws"),
            callbacks: VizochokCallbacks(onError: { e in errors.mutate { $0.append(e) } }))
        XCTAssertThrowsError(try widget.sendMessage("   ")) { XCTAssertEqual($0 as? VizochokError, .InvalidArgument(reason: "message text is empty")) }
        let milk = ProductItem(sku: "milk-1", name: "Молоко", price: 40, unit: "pcs", quantityStep: 1)
        XCTAssertThrowsError(try widget.selectProduct(milk, quantity: 1.5)) {
            guard case VizochokError.InvalidArgument = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try widget.sendMessage(String(repeating: "x", count: 2001))) {
            guard case VizochokError.Rejected(let code, _) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(code, "message_too_large")
        }
        XCTAssertEqual(errors.value.map(\.code), ["message_too_large"], "onError too")
        widget.close()
        XCTAssertThrowsError(try widget.sendMessage("hi")) { XCTAssertEqual($0 as? VizochokError, .Destroyed) }
        XCTAssertEqual(widget.state, .destroyed)
        XCTAssertEqual(uiText(key: "send", language: "uk"), "Надіслати")
        XCTAssertEqual(errorMessage(code: "connection_lost", language: "de"), "Connection lost. Reconnecting…")
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
