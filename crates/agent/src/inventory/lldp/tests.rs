use super::*;

fn tlv(kind: u16, v: &[u8]) -> Vec<u8> {
    let head = (kind << 9) | v.len() as u16;
    [&head.to_be_bytes()[..], v].concat()
}

/// A switch port's LLDPDU as a real switch sends it.
fn frame(tagged: bool) -> Vec<u8> {
    let mut f = GROUP.to_vec();
    f.extend([0x02, 0, 0, 0x5e, 0, 1]);
    if tagged {
        f.extend([0x81, 0x00, 0x00, 0x0a]);
    }
    f.extend(ETHERTYPE.to_be_bytes());
    f.extend(tlv(1, &[4, 0x02, 0, 0, 0x5e, 0, 1]));
    f.extend(tlv(2, b"\x05swp7"));
    f.extend(tlv(3, &120u16.to_be_bytes()));
    f.extend(tlv(4, b"rack 3 <uplink> & more"));
    f.extend(tlv(5, b"leaf-03"));
    f.extend(tlv(6, b"Debian\x00 switch"));
    f.extend(tlv(7, &[0x00, 0x14, 0x00, 0x04]));
    f.extend(tlv(8, &[5, 1, 10, 0, 0, 3, 2, 0, 0, 0, 7, 0]));
    f.extend(tlv(127, &[0x00, 0x80, 0xc2, 0x01, 0x00, 0x0a]));
    f.extend(tlv(0, &[]));
    f
}

#[test]
fn a_switch_ports_announcement_is_read() {
    for tagged in [false, true] {
        let n = parse(&frame(tagged), "eth0").unwrap();
        assert_eq!(n.iface, "eth0");
        assert_eq!(n.chassis_id, ("mac".into(), "02:00:00:5e:00:01".into()));
        assert_eq!(n.port_id, ("ifname".into(), "swp7".into()));
        assert_eq!(n.ttl, 120);
        assert_eq!(n.port_descr.as_deref(), Some("rack 3 <uplink> & more"));
        assert_eq!(n.sys_name.as_deref(), Some("leaf-03"));
        assert_eq!(
            n.sys_descr.as_deref(),
            Some("Debian switch"),
            "control bytes dropped"
        );
        assert_eq!(n.caps, vec![("Bridge", true), ("Router", false)]);
        assert_eq!(n.mgmt_ips, vec!["10.0.0.3".to_string()]);
    }
}

#[test]
fn the_document_is_lldpcli_xml_with_text_escaped() {
    let n = parse(&frame(false), "eth0").unwrap();
    let x = xml(&[n]);
    assert!(x.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lldp label=\"LLDP neighbors\">\n"
    ));
    for want in [
        "<interface label=\"Interface\" name=\"eth0\" via=\"LLDP\" rid=\"1\">",
        "<id label=\"ChassisID\" type=\"mac\">02:00:00:5e:00:01</id>",
        "<name label=\"SysName\">leaf-03</name>",
        "<mgmt-ip label=\"MgmtIP\">10.0.0.3</mgmt-ip>",
        "<capability label=\"Capability\" type=\"Bridge\" enabled=\"on\"/>",
        "<id label=\"PortID\" type=\"ifname\">swp7</id>",
        "<descr label=\"PortDescr\">rack 3 &lt;uplink&gt; &amp; more</descr>",
        "<ttl label=\"TTL\">120</ttl>",
    ] {
        assert!(x.contains(want), "{want} missing from\n{x}");
    }
    assert!(x.ends_with("</lldp>\n"));
    assert_eq!(
        xml(&[]),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lldp label=\"LLDP neighbors\"/>\n"
    );
}

#[test]
fn other_frames_and_broken_pdus_are_not_neighbours_and_never_panic() {
    let good = frame(false);
    // Every truncation, every single-byte corruption of the header TLVs.
    for cut in 0..good.len() - 2 {
        let _ = parse(&good[..cut], "eth0");
    }
    for i in 0..good.len() {
        for b in [0x00, 0xff, 0x7f, 0x80] {
            let mut f = good.clone();
            f[i] = b;
            let _ = parse(&f, "eth0");
        }
    }
    // Missing a mandatory TLV (no TTL).
    let mut f = good[..14].to_vec();
    f.extend(tlv(1, &[4, 1, 2, 3, 4, 5, 6]));
    f.extend(tlv(2, b"\x05p1"));
    assert_eq!(parse(&f, "eth0"), None);
    // Not LLDP.
    let mut ip = good.clone();
    ip[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    assert_eq!(parse(&ip, "eth0"), None);
    // A TLV longer than the frame.
    let mut long = good[..14].to_vec();
    long.extend([0x02, 0xff, 4]);
    assert_eq!(parse(&long, "eth0"), None);
}
