//! Comma-separated values as spreadsheets write them (RFC 4180): fields in double quotes
//! may hold commas, line breaks and doubled quotes; lines end in LF or CRLF. Shared by the
//! browser (bulk invitations read the file before sending it in parts) and the command line.

/// One line of a file (or several, when a quoted field spans lines), with the number of
/// the line it starts on, counting from 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub line: u32,
    pub fields: Vec<String>,
}

/// Splits `text` into records. Blank lines are skipped; a byte-order mark is ignored.
/// Fails only on a quoted field that is never closed, naming the line it opened on.
pub fn parse(text: &str) -> Result<Vec<Record>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1u32;
    let mut record_line = 1u32;
    let mut quoted = false;
    let mut quote_opened_on = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
                quote_opened_on = line;
            }
            ',' => fields.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                finish(&mut records, std::mem::take(&mut fields), record_line);
                line += 1;
                record_line = line;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(format!(
            "Line {quote_opened_on} opens a quoted field that is never closed."
        ));
    }
    fields.push(field);
    finish(&mut records, fields, record_line);
    Ok(records)
}

fn finish(records: &mut Vec<Record>, fields: Vec<String>, line: u32) {
    if fields.iter().all(|f| f.trim().is_empty()) {
        return;
    }
    let fields = fields.into_iter().map(|f| f.trim().to_string()).collect();
    records.push(Record { line, fields });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(line: u32, fields: &[&str]) -> Record {
        Record {
            line,
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn plain_quoted_and_multiline_fields() {
        let text = "\u{feff}email,name\r\n\
                    ann@partner.example, Ann \r\n\
                    \r\n\
                    \"bob@partner.example\",\"Bob, Jr.\",,\"Say \"\"hi\"\"\nthere\"\n\
                    cat@partner.example";
        assert_eq!(
            parse(text).unwrap(),
            vec![
                record(1, &["email", "name"]),
                record(2, &["ann@partner.example", "Ann"]),
                record(
                    4,
                    &["bob@partner.example", "Bob, Jr.", "", "Say \"hi\"\nthere"]
                ),
                record(6, &["cat@partner.example"]),
            ]
        );
    }

    #[test]
    fn an_unclosed_quote_names_its_line() {
        assert_eq!(
            parse("a@b.example\n\"c@d.example,x\n"),
            Err("Line 2 opens a quoted field that is never closed.".to_string())
        );
        assert_eq!(parse("").unwrap(), vec![]);
    }
}
