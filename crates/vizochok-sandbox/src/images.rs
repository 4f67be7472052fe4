//! Product pictures drawn on the fly, so the sandbox serves `/images/<sku>.svg`
//! without shipping image files.

use vizochok_server::CatalogProduct;

const SIZE: u32 = 160;
/// Longest label under the initials, in characters.
const LABEL_CHARS: usize = 12;

/// A small deterministic SVG for a product: its category's colours, the
/// initials of its name and the name's first word.
pub fn product_image_svg(product: &CatalogProduct) -> String {
    let (background, ink) = category_colors(&product.category);
    let initials = escape(&initials(&product.name));
    let label = escape(&label(&product.name));
    let title = escape(&product.name);
    let half = SIZE / 2;
    format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{s}" height="{s}" viewBox="0 0 {s} {s}" role="img" aria-label="{title}">"#,
            r#"<title>{title}</title>"#,
            r#"<rect width="{s}" height="{s}" rx="24" fill="{background}"/>"#,
            r#"<text x="{half}" y="92" text-anchor="middle" font-family="sans-serif" font-size="56" font-weight="700" fill="{ink}">{initials}</text>"#,
            r#"<text x="{half}" y="134" text-anchor="middle" font-family="sans-serif" font-size="16" fill="{ink}">{label}</text>"#,
            "</svg>"
        ),
        s = SIZE,
        half = half,
        title = title,
        background = background,
        ink = ink,
        initials = initials,
        label = label,
    )
}

/// Background and text colours of a category.
fn category_colors(category: &str) -> (&'static str, &'static str) {
    match category {
        "dairy" => ("#E3F2FD", "#1565C0"),
        "bakery" => ("#FFF3E0", "#E65100"),
        "meat" => ("#FFEBEE", "#C62828"),
        "fish" => ("#E0F7FA", "#00838F"),
        "vegetables" => ("#E8F5E9", "#2E7D32"),
        "fruits" => ("#FFFDE7", "#F57F17"),
        "grocery" => ("#EFEBE9", "#5D4037"),
        "drinks" => ("#E1F5FE", "#0277BD"),
        "sweets" => ("#FCE4EC", "#AD1457"),
        "frozen" => ("#EDE7F6", "#4527A0"),
        "household" => ("#ECEFF1", "#37474F"),
        _ => ("#F5F5F5", "#616161"),
    }
}

/// Upper-cased first letters of the first two words that start with one.
fn initials(name: &str) -> String {
    let letters: String = name
        .split_whitespace()
        .filter_map(|word| word.chars().next().filter(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    if letters.is_empty() {
        "?".to_owned()
    } else {
        letters
    }
}

/// The name's first word, shortened with an ellipsis when long.
fn label(name: &str) -> String {
    let word = name.split_whitespace().next().unwrap_or_default();
    if word.chars().count() <= LABEL_CHARS {
        word.to_owned()
    } else {
        word.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
    }
}

/// Escapes text for XML content and attribute values, dropping characters
/// XML 1.0 forbids (control characters would make the document invalid).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\u{fffe}' | '\u{ffff}' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo_catalog;

    fn product(name: &str, category: &str) -> CatalogProduct {
        CatalogProduct {
            sku: "X1".into(),
            name: name.into(),
            name_en: None,
            brand: None,
            category: category.into(),
            unit: "pcs".into(),
            quantity_step: 1.0,
            price: 10.0,
            promo_price: None,
            image_url: None,
            keywords: Vec::new(),
        }
    }

    #[test]
    fn shows_initials_label_and_category_colour() {
        let svg = product_image_svg(&product("Молоко Галичина 2,5%", "dairy"));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(">МГ</text>") && svg.contains(">Молоко</text>"), "{svg}");
        assert!(svg.contains("#E3F2FD"));
        assert!(product_image_svg(&product("Щось", "unknown")).contains("#F5F5F5"));
    }

    #[test]
    fn is_deterministic() {
        let p = product("Хліб Український", "bakery");
        assert_eq!(product_image_svg(&p), product_image_svg(&p));
    }

    #[test]
    fn escapes_hostile_names() {
        let hostile = "<script>alert(\"x\")</script> & 'quotes' \u{0}\u{7}]]>";
        let svg = product_image_svg(&product(hostile, "sweets"));
        assert!(!svg.contains("<script") && !svg.contains("]]>") && !svg.contains('\u{0}'), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;quotes&apos;"), "{svg}");
        // Only the markup's own tags remain.
        assert_eq!(svg.matches('<').count(), 9, "{svg}");
        // Markup-only names still get a glyph.
        assert!(product_image_svg(&product("<<>>", "x")).contains(">?</text>"));
    }

    #[test]
    fn shortens_long_first_words() {
        let svg = product_image_svg(&product("Суперпупермегапродукт", "x"));
        assert!(svg.contains(">Суперпуперм…</text>"), "{svg}");
    }

    #[test]
    fn draws_every_demo_product() {
        for p in demo_catalog().products() {
            let svg = product_image_svg(p);
            assert!(svg.len() < 2_000, "{}", p.sku);
        }
    }
}
