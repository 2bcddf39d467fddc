//! XPath tag definitions (MAAS's automatic tags): an XPath 1.0 expression
//! evaluated over a machine's commissioning details; the machine carries
//! the tag when the result is true (a non-empty node-set, a non-zero
//! number, a non-empty string, true).
//!
//! The document is built as MAAS builds it: the lshw output is the root
//! (so `//node[...]` works as it always has), and each detail is also
//! appended under it in its own namespace, the prefix and the URI being
//! the detail's name: `//lshw:node[...]`, `//lldp:interface[...]`. With no
//! usable lshw output the root is an empty `list`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use sxd_document::dom::{ChildOfElement, ChildOfRoot, Document, Element};
use sxd_document::{Package, QName, parser};
use sxd_xpath::{Context, Factory, Value};

/// The longest definition taken, and the deepest nesting of brackets: the
/// expression parser recurses, so depth is bounded before it runs.
const MAX_LEN: usize = 4096;
const MAX_DEPTH: usize = 64;
/// Documents nested deeper than this are not evaluated (the evaluator
/// recurses over descendants; lshw nests about ten deep).
const MAX_NESTING: usize = 256;
/// The namespaces definitions may use: each detail's name is both its
/// prefix and its URI, as MAAS binds them.
const NAMESPACES: [&str; 2] = ["lldp", "lshw"];

/// A machine's latest commissioning details: lshw's XML and lldpd's.
#[derive(Debug, Clone, Default)]
pub struct Details {
    pub lshw: Option<Vec<u8>>,
    pub lldp: Option<Vec<u8>>,
}

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

fn context<'d>() -> Context<'d> {
    let mut ctx = Context::new();
    for ns in NAMESPACES {
        ctx.set_namespace(ns, ns);
    }
    ctx
}

/// Why a definition is not an XPath expression this region evaluates, if
/// it is not: too long or deep, not parsed, or failing on an empty
/// document (an unknown function, a namespace prefix other than `lshw:`
/// and `lldp:`).
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
    if let Some(p) = unbound_prefix(definition) {
        return Err(format!(
            "Invalid xpath expression: the namespace prefix '{p}' is not bound (use {}).",
            NAMESPACES.map(|n| format!("{n}:")).join(" or ")
        ));
    }
    let built = catch_unwind(|| {
        let x = match Factory::new().build(definition) {
            Ok(Some(x)) => x,
            Ok(None) => return Err("it is empty".to_string()),
            Err(e) => return Err(e.to_string()),
        };
        let pkg = parser::parse("<list/>").map_err(|e| format!("{e:?}"))?;
        let doc = pkg.as_document();
        x.evaluate(&context(), doc.root())
            .map(|_| ())
            .map_err(|e| format!("{e:?}"))
    });
    match built {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("Invalid xpath expression: {e}.")),
        Err(_) => Err("Invalid xpath expression.".into()),
    }
}

/// Whether `definition` holds over the details. An expression that fails
/// does not match.
pub fn matches(definition: &str, details: &Details) -> bool {
    matches_all(&[definition.to_string()], details)[0]
}

/// Which of `definitions` hold over the details, the document built once.
pub fn matches_all(definitions: &[String], details: &Details) -> Vec<bool> {
    let none = vec![false; definitions.len()];
    // The parser and evaluator see what a booting machine uploaded: a
    // panic in either is a non-match, never a crash, and one definition's
    // panic does not decide the others.
    let Ok(Some(pkg)) = catch_unwind(AssertUnwindSafe(|| merged(details))) else {
        return none;
    };
    let doc = pkg.as_document();
    let ctx = context();
    definitions
        .iter()
        .map(|d| catch_unwind(AssertUnwindSafe(|| holds(d, &ctx, doc))).unwrap_or(false))
        .collect()
}

/// Whether one definition holds over the built document.
fn holds(definition: &str, ctx: &Context<'_>, doc: Document<'_>) -> bool {
    if check_shape(definition).is_err() || unbound_prefix(definition).is_some() {
        return false;
    }
    let Ok(Some(x)) = Factory::new().build(definition) else {
        return false;
    };
    match x.evaluate(ctx, doc.root()) {
        Ok(Value::Boolean(b)) => b,
        Ok(Value::Number(n)) => n != 0.0 && !n.is_nan(),
        Ok(Value::String(s)) => !s.is_empty(),
        Ok(Value::Nodeset(ns)) => ns.size() > 0,
        Err(_) => false,
    }
}

/// The first namespace prefix in `definition` other than `lshw` and
/// `lldp` (outside string literals; `axis::` is not a prefix). The
/// evaluator would panic on it only when a step using it runs, so it is
/// looked for in the text.
fn unbound_prefix(definition: &str) -> Option<String> {
    let b = definition.as_bytes();
    let name = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.') || c >= 0x80;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                i += 1;
            }
            c if name(c) && !c.is_ascii_digit() && c != b'-' && c != b'.' => {
                let start = i;
                while i < b.len() && name(b[i]) {
                    i += 1;
                }
                let is_prefix = b.get(i) == Some(&b':') && b.get(i + 1) != Some(&b':');
                let word = &definition[start..i];
                if is_prefix && !NAMESPACES.contains(&word) {
                    return Some(word.to_string());
                }
            }
            b':' if b.get(i + 1) == Some(&b':') => i += 2,
            _ => i += 1,
        }
    }
    None
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

/// One detail parsed, if it is UTF-8, not nested too deep and
/// well-formed. The nesting is measured on the text first: the parser's
/// work grows with the square of the depth.
fn parse(xml: Option<&[u8]>) -> Option<Package> {
    let xml = xml?;
    if !shallow(xml, MAX_NESTING) {
        return None;
    }
    let text = std::str::from_utf8(xml).ok()?;
    let pkg = parser::parse(text).ok()?;
    let ok = root_element(pkg.as_document()).is_some_and(|e| nesting(e) <= MAX_NESTING);
    ok.then_some(pkg)
}

/// Whether the elements of `xml` nest at most `max` deep, read from the
/// text in one pass: start tags (quoted attribute values skipped, `/>`
/// closes at once), end tags, and comments, CDATA, declarations and
/// processing instructions skipped whole. Text that is not well-formed
/// may be judged either way; the parser refuses it after.
fn shallow(xml: &[u8], max: usize) -> bool {
    let find = |from: usize, pat: &[u8]| {
        xml[from.min(xml.len())..]
            .windows(pat.len())
            .position(|w| w == pat)
            .map_or(xml.len(), |p| from + p + pat.len())
    };
    let mut depth = 0usize;
    let mut i = 0;
    while i < xml.len() {
        if xml[i] != b'<' {
            i += 1;
            continue;
        }
        let rest = &xml[i..];
        if rest.starts_with(b"<!--") {
            i = find(i + 4, b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            i = find(i + 9, b"]]>");
        } else if rest.starts_with(b"<?") {
            i = find(i + 2, b"?>");
        } else if rest.starts_with(b"<!") || rest.starts_with(b"</") {
            if rest.starts_with(b"</") {
                depth = depth.saturating_sub(1);
            }
            i = find(i + 2, b">");
        } else {
            depth += 1;
            if depth > max {
                return false;
            }
            let mut quote = None;
            i += 1;
            while i < xml.len() {
                let c = xml[i];
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None if c == b'"' || c == b'\'' => quote = Some(c),
                    None if c == b'>' => {
                        if xml[i - 1] == b'/' {
                            depth -= 1;
                        }
                        break;
                    }
                    None => {}
                }
                i += 1;
            }
            i += 1;
        }
    }
    true
}

fn root_element(doc: Document<'_>) -> Option<Element<'_>> {
    doc.root().children().into_iter().find_map(|c| match c {
        ChildOfRoot::Element(e) => Some(e),
        _ => None,
    })
}

/// How deep elements nest under `top` (walked without recursion).
fn nesting(top: Element<'_>) -> usize {
    let mut max = 0;
    let mut stack = vec![(top, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        if d > MAX_NESTING {
            break;
        }
        for c in e.children() {
            if let ChildOfElement::Element(child) = c {
                stack.push((child, d + 1));
            }
        }
    }
    max
}

/// The composite document: lshw's own tree as the root (or an empty
/// `list`), then every usable detail copied under it in its namespace
/// (lshw's copy made from the same parse).
fn merged(details: &Details) -> Option<Package> {
    let lshw = parse(details.lshw.as_deref());
    let has_lshw = lshw.is_some();
    let base = lshw.or_else(|| parser::parse("<list/>").ok())?;
    {
        let root = root_element(base.as_document())?;
        for ns in NAMESPACES {
            root.register_prefix(ns, ns);
        }
        // lshw's own children, before anything is appended beside them.
        let own = root.children();
        if let Some(pkg) = parse(details.lldp.as_deref()) {
            let from = root_element(pkg.as_document())?;
            graft(root, from, from.children(), "lldp");
        }
        if has_lshw {
            graft(root, root, own, "lshw");
        }
    }
    Some(base)
}

/// Copy `from` with `kids` (its children, taken before anything was
/// appended, so `from` may be `into` itself) under `into`, unqualified
/// elements put in namespace `ns` (attributes and text as they are;
/// walked without recursion, children in order).
fn graft<'d, 's>(into: Element<'d>, from: Element<'s>, kids: Vec<ChildOfElement<'s>>, ns: &str) {
    let doc = into.document();
    let copy = |src: Element<'_>| {
        let name = src.name();
        let uri = name.namespace_uri().or(Some(ns));
        let el = doc.create_element(QName::with_namespace_uri(uri, name.local_part()));
        for a in src.attributes() {
            el.set_attribute_value(a.name(), a.value());
        }
        el
    };
    let top = copy(from);
    into.append_child(top);
    let mut stack = vec![(top, kids)];
    while let Some((dst, kids)) = stack.pop() {
        for c in kids {
            match c {
                ChildOfElement::Element(e) => {
                    let el = copy(e);
                    dst.append_child(el);
                    stack.push((el, e.children()));
                }
                ChildOfElement::Text(t) => dst.append_child(doc.create_text(t.text())),
                _ => {}
            }
        }
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

    const LLDP: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<lldp label="LLDP neighbors">
<interface label="Interface" name="ens3" via="LLDP">
 <chassis label="Chassis"><id label="ChassisID" type="mac">0a:00:00:00:00:01</id><name label="SysName">tor-1</name></chassis>
 <port label="Port"><id label="PortID" type="ifname">swp7</id></port>
</interface>
</lldp>"#;

    fn lshw() -> Details {
        Details {
            lshw: Some(LSHW.as_bytes().to_vec()),
            lldp: None,
        }
    }

    fn both() -> Details {
        Details {
            lshw: Some(LSHW.as_bytes().to_vec()),
            lldp: Some(LLDP.as_bytes().to_vec()),
        }
    }

    fn raw(lshw: &[u8]) -> Details {
        Details {
            lshw: Some(lshw.to_vec()),
            lldp: None,
        }
    }

    #[test]
    fn definitions_match_what_lshw_says() {
        let m = |d: &str| matches(d, &lshw());
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
        assert!(!matches("//node", &raw(b"<list><node>")));
        assert!(!matches("//node", &raw(b"\xff\xfe")));
        assert!(!matches("//node[", &lshw()));
        // Unknown functions and unbound prefixes are refused, not stored
        // to never match; runaway nesting is refused before parsing.
        assert!(check("cotains(//vendor, 'QEMU')").is_err());
        assert!(check("//lshx:node").is_err());
        assert!(check("//lshw:node").is_ok());
        assert!(check("//lldp:interface").is_ok());
        assert!(check(&format!("{}1{}", "(".repeat(100), ")".repeat(100))).is_err());
        assert!(check(&"a".repeat(5000)).is_err());
        let defs = ["//node[@class='system']".to_string(), "//nope".to_string()];
        assert_eq!(matches_all(&defs, &lshw()), [true, false]);
    }

    #[test]
    fn each_detail_is_also_in_its_own_namespace() {
        let m = |d: &str, x: &Details| matches(d, x);
        // lshw as it always was, and again under `lshw:` (not twice under
        // the unprefixed names).
        assert!(m("//lshw:node[@class='processor']/lshw:product", &both()));
        assert!(m("count(//node[@class='network']) = 1", &both()));
        assert!(m("count(//lshw:node[@class='network']) = 1", &both()));
        assert!(m("/list/lshw:list/lshw:node[@id='qemu']", &both()));
        // lldp's neighbours only under `lldp:`.
        assert!(m(
            "//lldp:interface[@name='ens3']/lldp:chassis/lldp:name = 'tor-1'",
            &both()
        ));
        assert!(!m("//lldp:interface[@name='ens4']", &both()));
        assert!(!m("//interface", &both()));
        assert!(!m("//lldp:interface", &lshw()));
        // Without lshw (or with an lshw that does not parse) the root is
        // an empty list holding the other details.
        let lldp_only = Details {
            lshw: Some(b"<list><node>".to_vec()),
            lldp: Some(LLDP.as_bytes().to_vec()),
        };
        assert!(m(
            "/list/lldp:lldp/lldp:interface/lldp:port/lldp:id = 'swp7'",
            &lldp_only
        ));
        assert!(!m("//node", &lldp_only));
        assert!(!m("//lshw:node", &lldp_only));
        assert!(!m("/list/*", &Details::default()));
    }

    #[test]
    fn unbound_prefixes_are_refused_wherever_they_are() {
        for d in [
            "//node/foo:bar",
            "//node[x:y]",
            "//node[@id='a'][fn:true()]",
            "foo:*",
        ] {
            let e = check(d).unwrap_err();
            assert!(e.contains("is not bound"), "{d}: {e}");
        }
        for d in [
            "//lshw:node[@id='cpu:0']",
            "//node[@id=\"x:y\"]",
            "//node/child::node",
            "count(//lldp:interface) > 0",
        ] {
            assert!(check(d).is_ok(), "{d}: {:?}", check(d));
        }
        // Stored before this check, or slipped past it: that definition is
        // false and the others are still evaluated.
        let defs = [
            "//node/foo:bar".to_string(),
            "//node[@class='system']".to_string(),
        ];
        assert_eq!(matches_all(&defs, &lshw()), [false, true]);
    }

    #[test]
    fn nesting_is_read_from_the_text_before_parsing() {
        let deep = |n: usize| format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
        assert!(shallow(deep(10).as_bytes(), 10));
        assert!(!shallow(deep(11).as_bytes(), 10));
        // Closers in attributes, comments and CDATA do not hide depth.
        let tricky = "<a x='/>' y=\"</a>\"><!-- </a> --><![CDATA[</a>]]><?pi </a>?>".repeat(11);
        assert!(!shallow(tricky.as_bytes(), 10));
        // Empty elements and siblings do not add up.
        let flat = "<a/><b></b>".repeat(1000);
        assert!(shallow(format!("<r>{flat}</r>").as_bytes(), 2));
        // list > node > node > node > capabilities > capability.
        assert!(shallow(LSHW.as_bytes(), 6));
        assert!(!shallow(LSHW.as_bytes(), 5));
    }

    #[test]
    fn documents_nested_too_deep_are_not_evaluated() {
        let deep = |n: usize| format!("{}{}", "<list>".repeat(n), "</list>".repeat(n));
        assert!(matches("/list/list/list", &raw(deep(200).as_bytes())));
        // Dropped: the root is the empty list.
        assert!(!matches("/list/list", &raw(deep(5000).as_bytes())));
        let lldp = Details {
            lshw: Some(LSHW.as_bytes().to_vec()),
            lldp: Some(deep(5000).into_bytes()),
        };
        assert!(matches("//node[@class='system']", &lldp));
        assert!(!matches("//lldp:list", &lldp));
    }
}
