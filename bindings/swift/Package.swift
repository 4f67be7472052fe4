// swift-tools-version:5.10
// The VIZOCHOK Swift SDK: VizochokWidget, a host of the Rust driver over URLSessionWebSocketTask,
// and the uniffi bindings it uses (Sources/Vizochok/Generated, written by `cargo xtask bindgen`).
import PackageDescription

let package = Package(
    name: "Vizochok",
    products: [
        .library(name: "Vizochok", targets: ["Vizochok"]),
    ],
    targets: [
        // The C headers of libvizochok_ffi (Generated/) and a module map that links it.
        // On Linux and in tests: `-Xlinker -L<dir of libvizochok_ffi.so>`; on iOS, ship
        // libvizochok_ffi.a (the crate's staticlib) in an XCFramework instead.
        .systemLibrary(name: "VizochokFFI", path: "Sources/VizochokFFI"),
        .target(name: "Vizochok", dependencies: ["VizochokFFI"], path: "Sources/Vizochok"),
        .testTarget(name: "VizochokTests", dependencies: ["Vizochok"], path: "Tests/VizochokTests"),
    ]
)
