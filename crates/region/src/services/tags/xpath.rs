//! XPath tag definitions (MAAS's automatic tags): an XPath 1.0 expression
//! evaluated over a machine's lshw XML from commissioning; the machine
//! carries the tag when the result is true (a non-empty node-set, a
//! non-zero number, a non-empty string, true).

use std::panic::{AssertUnwindSafe, catch_unwind};

use sxd_xpath::{Context, Factory, Value};

/// The longest definition taken, and the deepest nesting of brackets: the
/// expression parser recurses, so depth is bounded before it runs.
const MAX_LEN: usize = 4096;
const MAX_DEPTH: usize = 64;

fn depth(definition: &str) -> usize {
    let (mut d, mut max) = (0usize, 0usize);
    for c in definition.chars() {
        match c {
            '(' | '[' => {
                d += 1;
                max = max.max(d);
            }
            ')' | ']' => d = d.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Why a definition is not an XPath expression this region evaluates, if
/// it is not: too long or deep, not parsed, or failing on an empty
/// document (an unknown function, a namespace prefix such as MAAS's
/// `lshw:`, which is not bound here).
pub fn check(definition: &str) -> Result<(), String> {
    if definition.len() > MAX_LEN {
        return Err(format!(
            "Invalid xpath expression: longer than {MAX_LEN} characters."
        ));
    }
    if depth(definition) > MAX_DEPTH {
        return Err(format!(
            "Invalid xpath expression: nested deeper than {MAX_DEPTH}."
        ));
    }
    let built = catch_unwind(|| {
        let x = match Factory::new().build(definition) {
            Ok(Some(x)) => x,
            Ok(None) => return Err("it is empty".to_string()),
            Err(e) => return Err(e.to_string()),
        };
        let pkg = sxd_document::parser::parse("<list/>").map_err(|e| format!("{e:?}"))?;
        let doc = pkg.as_document();
        x.evaluate(&Context::new(), doc.root())
            .map(|_| ())
            .map_err(|e| format!("{e:?}"))
    });
    match built {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("Invalid xpath expression: {e}.")),
        Err(_) => Err("Invalid xpath expression.".into()),
    }
}

/// Whether `definition` holds over the lshw document `xml`. A document
/// that does not parse, or an expression that fails, does not match.
pub fn matches(definition: &str, xml: &[u8]) -> bool {
    matches_all(&[definition.to_string()], xml)[0]
}

/// Which of `definitions` hold over `xml`, the document parsed once.
pub fn matches_all(definitions: &[String], xml: &[u8]) -> Vec<bool> {
    let none = vec![false; definitions.len()];
    let Ok(text) = std::str::from_utf8(xml) else {
        return none;
    };
    // The parser and evaluator see what a booting machine uploaded: a
    // panic in either is a non-match, never a crash.
    catch_unwind(AssertUnwindSafe(|| {
        let Ok(pkg) = sxd_document::parser::parse(text) else {
            return none.clone();
        };
        let doc = pkg.as_document();
        let ctx = Context::new();
        definitions
            .iter()
            .map(|d| {
                if check_shape(d).is_err() {
                    return false;
                }
                let Ok(Some(x)) = Factory::new().build(d) else {
                    return false;
                };
                match x.evaluate(&ctx, doc.root()) {
                    Ok(Value::Boolean(b)) => b,
                    Ok(Value::Number(n)) => n != 0.0 && !n.is_nan(),
                    Ok(Value::String(s)) => !s.is_empty(),
                    Ok(Value::Nodeset(ns)) => ns.size() > 0,
                    Err(_) => false,
                }
            })
            .collect()
    }))
    .unwrap_or(none)
}

/// The length and depth bounds alone (a stored definition predating them
/// is not evaluated).
fn check_shape(definition: &str) -> Result<(), ()> {
    if definition.len() > MAX_LEN || depth(definition) > MAX_DEPTH {
        Err(())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LSHW: &str = r#"<?xml version="1.0" standalone="yes" ?>
<list>
<node id="qemu" claimed="true" class="system" handle="DMI:0100">
 <product>Standard PC (i440FX + PIIX, 1996)</product>
 <vendor>QEMU</vendor>
 <node id="core" claimed="true" class="bus">
  <node id="cpu:0" claimed="true" class="processor">
   <product>QEMU Virtual CPU version 2.5+</product>
   <capabilities><capability id="fpu">mathematical co-processor</capability></capabilities>
  </node>
  <node id="memory" class="memory"><size units="bytes">2147483648</size></node>
  <node id="network" claimed="true" class="network">
   <serial>52:54:00:12:34:56</serial>
   <configuration><setting id="driver" value="virtio_net" /></configuration>
  </node>
 </node>
</node>
</list>"#;

    #[test]
    fn definitions_match_what_lshw_says() {
        let m = |d: &str| matches(d, LSHW.as_bytes());
        assert!(m(
            "//node[@class='processor']/capabilities/capability[@id='fpu']"
        ));
        assert!(!m(
            "//node[@class='processor']/capabilities/capability[@id='vmx']"
        ));
        assert!(m("//node[@id='memory']/size >= 1073741824"));
        assert!(!m("//node[@id='memory']/size >= 4294967296"));
        assert!(m(
            r#"//node[@class="network"]/configuration/setting[@id="driver"]/@value = "virtio_net""#
        ));
        assert!(m("contains(//node[@class='system']/vendor, 'QEMU')"));
        assert!(!m("count(//node[@class='network']) > 1"));
    }

    #[test]
    fn bad_definitions_and_documents_are_refused_or_never_match() {
        assert!(check("//node[@id='cpu'").is_err());
        assert!(check("").is_err());
        assert!(check("//node[@class='network']").is_ok());
        assert!(!matches("//node", b"<list><node>"));
        assert!(!matches("//node", b"\xff\xfe"));
        assert!(!matches("//node[", LSHW.as_bytes()));
        // Unknown functions and unbound prefixes are refused, not stored
        // to never match; runaway nesting is refused before parsing.
        assert!(check("cotains(//vendor, 'QEMU')").is_err());
        assert!(check("//lshw:node").is_err());
        assert!(check(&format!("{}1{}", "(".repeat(100), ")".repeat(100))).is_err());
        assert!(check(&"a".repeat(5000)).is_err());
        let defs = ["//node[@class='system']".to_string(), "//nope".to_string()];
        assert_eq!(matches_all(&defs, LSHW.as_bytes()), [true, false]);
    }
}
