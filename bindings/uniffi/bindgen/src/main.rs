//! `uniffi-bindgen` at the workspace's uniffi version: `cargo xtask bindgen`
//! runs it in library mode on the unstripped `libvizochok_ffi.so`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
