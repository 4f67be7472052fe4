use std::path::{Path, PathBuf};

use super::*;

const HEADER: &str = "sku,name,name_en,brand,category,unit,quantity_step,price,promo_price,image_url,keywords";

/// A fresh directory under the system temp dir, unique per test.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vizochok-sandbox-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn csv_error(text: &str) -> (usize, String) {
    match catalog_from_csv(text, Path::new("shop.csv")).unwrap_err() {
        StoreConfigError::Line { line, message, .. } => (line, message),
        other => panic!("expected a line error, got {other}"),
    }
}

#[test]
fn demo_catalog_loads() {
    // Loading checks unique SKUs, units, positive steps and prices; the fallback would be empty.
    let catalog = demo_catalog();
    assert!(catalog.products().len() >= 200);
    assert!(DEMO_JSON.contains(&format!("\"store_id\": \"{DEMO_STORE_ID}\"")));
    for p in catalog.products() {
        let expected_steps: &[f64] = if p.unit == "kg" {
            &[0.1, 0.5]
        } else if p.unit == "l" {
            &[0.5, 1.0]
        } else {
            &[1.0]
        };
        assert!(expected_steps.contains(&p.quantity_step), "{}: step {}", p.sku, p.quantity_step);
        assert_eq!(p.image_url.as_deref(), Some(format!("/images/{}.svg", p.sku).as_str()));
        assert!(p.name_en.is_some() && !p.category.is_empty() && !p.keywords.is_empty(), "{}", p.sku);
    }
    let promos = catalog.products().iter().filter(|p| p.promo_price.is_some()).count();
    assert!((20..=60).contains(&promos), "{promos} promos");
}

#[test]
fn csv_catalog_parses_quotes_optional_fields_and_keywords() {
    let text = format!(
        "\u{feff}{HEADER}\r\n\
         M1,\"Молоко \"\"Ферма\"\", 1 л\",Milk,Ферма,dairy,pcs,1,45.5,39.9,/images/M1.svg,молоко| milk |\r\n\
         \n\
         C1,Сир,,,dairy,kg,0.1,400,,,\n"
    );
    let catalog = catalog_from_csv(&text, Path::new("shop.csv")).unwrap();
    let milk = catalog.get("M1").unwrap();
    assert_eq!(milk.name, "Молоко \"Ферма\", 1 л");
    assert_eq!(milk.name_en.as_deref(), Some("Milk"));
    assert_eq!(milk.promo_price, Some(39.9));
    assert_eq!(milk.keywords, ["молоко", "milk"]);
    let cheese = catalog.get("C1").unwrap();
    assert_eq!((cheese.brand.as_ref(), cheese.name_en.as_ref(), cheese.image_url.as_ref()), (None, None, None));
    assert_eq!(cheese.quantity_step, 0.1);
    assert!(cheese.keywords.is_empty());
}

#[test]
fn csv_columns_may_come_in_any_order() {
    let text = "keywords,image_url,promo_price,price,quantity_step,unit,category,brand,name_en,name,sku\n\
                хліб,,,30,1,pcs,bakery,,Bread,Хліб,B1\n";
    let catalog = catalog_from_csv(text, Path::new("shop.csv")).unwrap();
    assert_eq!(catalog.get("B1").unwrap().name, "Хліб");
}

#[test]
fn csv_errors_name_the_line() {
    let bad_price = format!("{HEADER}\nA,Яблука,,,fruits,kg,0.1,35,,,\nB,Груші,,,fruits,kg,0.1,дорого,,,\n");
    let (line, message) = csv_error(&bad_price);
    assert_eq!(line, 3);
    assert!(message.contains("price"), "{message}");

    // A quoted line break moves later records down a line.
    let duplicate = format!("{HEADER}\nA,\"Яблука\nГала\",,,fruits,kg,0.1,35,,,\nA,Груші,,,fruits,kg,0.1,40,,,\n");
    assert_eq!(csv_error(&duplicate), (4, "duplicate sku \"A\"".into()));

    let few_fields = format!("{HEADER}\nA,Яблука,fruits\n");
    assert_eq!(csv_error(&few_fields).0, 2);
    assert_eq!(csv_error("sku,name\nA,B\n").0, 1);
    assert_eq!(csv_error(&format!("{HEADER}\nA,\"open,,,,,,,,,\n")).0, 2);
    assert!(csv_error(&format!("{HEADER}\nA,Яблука,,,fruits,box,1,35,,,\n")).1.contains("unit"));

    let error = catalog_from_csv(&few_fields, Path::new("shop.csv")).unwrap_err();
    assert!(error.to_string().starts_with("shop.csv:2: "), "{error}");
}

#[test]
fn json_catalog_accepts_an_array_or_an_object() {
    let product = r#"{"sku":"A","name":"Яблука","unit":"kg","quantity_step":0.1,"price":35}"#;
    let from_array = catalog_from_json(&format!("[{product}]"), Path::new("a.json")).unwrap();
    let from_object = catalog_from_json(&format!(r#"{{"store_id":"x","products":[{product}]}}"#), Path::new("a.json"));
    assert_eq!(from_array, from_object.unwrap());
    assert_eq!(from_array.get("A").unwrap().category, "");
}

#[test]
fn json_errors_name_the_file_and_line_or_product() {
    let missing_price =
        "{\"products\": [\n{\"sku\":\"A\",\"name\":\"Яблука\",\"unit\":\"kg\",\"quantity_step\":0.1}\n]}";
    let error = catalog_from_json(missing_price, Path::new("shop.json")).unwrap_err().to_string();
    assert!(error.starts_with("shop.json: missing field `price` at line 2"), "{error}");

    let zero_step = r#"[{"sku":"A","name":"Яблука","unit":"kg","quantity_step":0,"price":35}]"#;
    let error = catalog_from_json(zero_step, Path::new("shop.json")).unwrap_err().to_string();
    assert_eq!(error, "shop.json: product 1 (sku \"A\"): quantity_step 0 must be positive");
}

#[test]
fn config_loads_stores_with_catalogs_relative_to_it() {
    let dir = temp_dir("config-ok");
    std::fs::create_dir_all(dir.join("catalogs")).unwrap();
    std::fs::write(dir.join("catalogs/shop.csv"), format!("{HEADER}\nA,Яблука,,,fruits,kg,0.1,35,,,\n")).unwrap();
    let config = serde_json::json!({"stores": [
        {"store_id": "shop", "api_keys": ["pk_shop"], "allowed_origins": ["http://localhost:5173"],
         "catalog": "catalogs/shop.csv", "webhook_url": "http://localhost:3000/hook", "webhook_secret": "s3cret"},
        {"store_id": "demo", "api_keys": ["pk_demo"],
         "catalog": Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo-store.json")},
    ]});
    std::fs::write(dir.join("stores.json"), config.to_string()).unwrap();
    let stores = load_stores(&dir.join("stores.json")).unwrap();
    assert_eq!(stores.len(), 2);
    assert_eq!(stores[0].store_id, "shop");
    assert_eq!(stores[0].catalog.products().len(), 1);
    assert_eq!(stores[0].webhook_secret.as_deref(), Some("s3cret"));
    assert!(stores[1].allowed_origins.is_empty());
    assert_eq!(stores[1].catalog, demo_catalog());
    let debug = format!("{:?}", stores[0]);
    assert!(!debug.contains("s3cret") && !debug.contains("pk_shop"), "{debug}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn config_errors_name_the_file() {
    let dir = temp_dir("config-bad");
    let config = dir.join("stores.json");

    std::fs::write(&config, r#"{"stores": [{"store_id": "s", "api_keys": ["k"], "catalog": "missing.csv"}]}"#).unwrap();
    let error = load_stores(&config).unwrap_err();
    assert!(matches!(&error, StoreConfigError::Read { path, .. } if path.ends_with("missing.csv")), "{error}");

    std::fs::write(&config, r#"{"stores": [{"store_id": "s", "api_keys": [], "catalog": "x.csv"}]}"#).unwrap();
    let error = load_stores(&config).unwrap_err().to_string();
    assert!(error.contains("stores.json: store \"s\": api_keys"), "{error}");

    std::fs::write(&config, "{\"stores\": [\n{\"store_id\": \"s\", \"api_key\": [\"k\"]}]}").unwrap();
    let error = load_stores(&config).unwrap_err().to_string();
    assert!(error.contains("unknown field `api_key`") && error.contains("line 2"), "{error}");

    std::fs::write(&config, r#"{"stores": [{"store_id": "s", "api_keys": ["k"], "catalog": "shop.xlsx"}]}"#).unwrap();
    assert!(matches!(load_stores(&config), Err(StoreConfigError::UnsupportedFormat { .. })));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_store_names_its_identity_secret_and_whether_identity_is_required() {
    let dir = temp_dir("config-identity");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo-store.json");
    let config = dir.join("stores.json");
    let stores = serde_json::json!({"stores": [
        {"store_id": "strict", "api_keys": ["pk_1"], "catalog": demo, "identity_secret": "idsec_1", "require_identity": true},
        {"store_id": "open", "api_keys": ["pk_2"], "catalog": demo, "identity_secret": "idsec_2"},
        {"store_id": "plain", "api_keys": ["pk_3"], "catalog": demo},
    ]});
    std::fs::write(&config, stores.to_string()).unwrap();
    let file = load_store_file(&config).unwrap();
    assert_eq!(file.stores.len(), 3);
    let strict = &file.identities["strict"];
    assert_eq!((strict.identity_secret.as_deref(), strict.require_identity), (Some("idsec_1"), true));
    assert!(!file.identities["open"].require_identity, "false unless asked for");
    assert!(!file.identities.contains_key("plain"));
    assert!(!format!("{file:?}").contains("idsec_"), "Debug shows no identity secret");

    for (entry, complaint) in [
        (serde_json::json!({"identity_secret": " "}), "identity_secret is empty"),
        (serde_json::json!({"require_identity": true}), "require_identity needs an identity_secret"),
    ] {
        let mut store = serde_json::json!({"store_id": "s", "api_keys": ["k"], "catalog": demo});
        store.as_object_mut().unwrap().extend(entry.as_object().unwrap().clone());
        std::fs::write(&config, serde_json::json!({"stores": [store]}).to_string()).unwrap();
        let error = load_store_file(&config).unwrap_err().to_string();
        assert!(error.contains(complaint) && error.contains("stores.json"), "{error}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
