//! CSV catalogs (RFC 4180: quoted fields may hold commas, doubled quotes
//! and line breaks). Small enough to parse by hand.

use vizochok_server::CatalogProduct;

const COLUMNS: [&str; 11] = [
    "sku",
    "name",
    "name_en",
    "brand",
    "category",
    "unit",
    "quantity_step",
    "price",
    "promo_price",
    "image_url",
    "keywords",
];

/// An error: 1-based line number and message.
pub(super) type LineError = (usize, String);

/// Parses a catalog, returning each product with the line its record starts on.
pub(super) fn parse_products(text: &str) -> Result<Vec<(usize, CatalogProduct)>, LineError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = parse_records(text)?.into_iter();
    let Some((header_line, header)) = records.next() else {
        return Err((1, "empty file: expected a header row".into()));
    };
    let order = column_order(&header).map_err(|message| (header_line, message))?;
    records
        .map(|(line, fields)| {
            if fields.len() != header.len() {
                return Err((line, format!("expected {} fields, found {}", header.len(), fields.len())));
            }
            // Reorder to the canonical column order.
            let field = |i: usize| order.get(i).and_then(|&at| fields.get(at)).map_or("", |f| f.trim());
            product(field).map(|p| (line, p)).map_err(|message| (line, message))
        })
        .collect()
}

/// For each canonical column, its index in the file.
fn column_order(header: &[String]) -> Result<[usize; 11], String> {
    let mut order = [0; 11];
    for (slot, name) in order.iter_mut().zip(COLUMNS) {
        *slot = header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| format!("header lacks column {name:?} (expected {})", COLUMNS.join(",")))?;
    }
    if let Some(extra) = header.iter().find(|h| !COLUMNS.contains(&h.trim())) {
        return Err(format!("unknown column {extra:?} (expected {})", COLUMNS.join(",")));
    }
    if header.len() != COLUMNS.len() {
        return Err("a column appears twice in the header".into());
    }
    Ok(order)
}

fn product<'a>(field: impl Fn(usize) -> &'a str) -> Result<CatalogProduct, String> {
    let optional = |i: usize| Some(field(i)).filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(CatalogProduct {
        sku: field(0).to_owned(),
        name: field(1).to_owned(),
        name_en: optional(2),
        brand: optional(3),
        category: field(4).to_owned(),
        unit: field(5).to_owned(),
        quantity_step: number("quantity_step", field(6))?,
        price: number("price", field(7))?,
        promo_price: optional(8).map(|s| number("promo_price", &s)).transpose()?,
        image_url: optional(9),
        keywords: field(10).split('|').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect(),
    })
}

fn number(column: &str, value: &str) -> Result<f64, String> {
    value.parse::<f64>().map_err(|_| format!("{column} {value:?} is not a number (use a dot for decimals)"))
}

/// Splits text into records of fields, each with its starting line.
fn parse_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, LineError> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut record_line = 1;
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => {
                quoted = false;
                if !matches!(chars.peek(), None | Some(',' | '\n' | '\r')) {
                    return Err((line, "unexpected text after a closing quote".into()));
                }
            }
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, '"') => return Err((line, "quote inside an unquoted field (quote the whole field)".into())),
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                end_record(&mut records, &mut fields, &mut field, record_line);
                line += 1;
                record_line = line;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err((record_line, "unterminated quoted field".into()));
    }
    end_record(&mut records, &mut fields, &mut field, record_line);
    Ok(records)
}

/// Closes a record; blank lines are skipped.
fn end_record(records: &mut Vec<(usize, Vec<String>)>, fields: &mut Vec<String>, field: &mut String, line: usize) {
    if fields.is_empty() && field.trim().is_empty() {
        field.clear();
        return;
    }
    fields.push(std::mem::take(field));
    records.push((line, std::mem::take(fields)));
}
