//! XPath tag definitions (MAAS's automatic tags): an XPath 1.0 expression
//! evaluated over a machine's lshw XML from commissioning; the machine
//! carries the tag when the result is true (a non-empty node-set, a
//! non-zero number, a non-empty string, true).

use std::panic::{AssertUnwindSafe, catch_unwind};

use sxd_xpath::{Context, Factory, Value};

/// Why a definition is not an XPath expression, if it is not.
pub fn check(definition: &str) -> Result<(), String> {
    let built = catch_unwind(|| Factory::new().build(definition).map(|x| x.is_some()));
    match built {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err("Invalid xpath expression: it is empty.".into()),
        Ok(Err(e)) => Err(format!("Invalid xpath expression: {e}.")),
        Err(_) => Err("Invalid xpath expression.".into()),
    }
}

/// Whether `definition` holds over the lshw document `xml`. A document
/// that does not parse, or an expression that fails, does not match.
pub fn matches(definition: &str, xml: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(xml) else {
        return false;
    };
    // The parser and evaluator see what a booting machine uploaded: a
    // panic in either is a non-match, never a crash.
    catch_unwind(AssertUnwindSafe(|| {
        let Ok(Some(x)) = Factory::new().build(definition) else {
            return false;
        };
        let Ok(pkg) = sxd_document::parser::parse(text) else {
            return false;
        };
        let doc = pkg.as_document();
        match x.evaluate(&Context::new(), doc.root()) {
            Ok(Value::Boolean(b)) => b,
            Ok(Value::Number(n)) => n != 0.0 && !n.is_nan(),
            Ok(Value::String(s)) => !s.is_empty(),
            Ok(Value::Nodeset(ns)) => ns.size() > 0,
            Err(_) => false,
        }
    }))
    .unwrap_or(false)
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
    }
}
