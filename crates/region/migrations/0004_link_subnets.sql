-- Machine JSON now embeds each link's full subnet and VLAN (the `subnets/`
-- shape), so a change to any of those columns must move the render epoch.
DROP TRIGGER subnets_render ON subnets;
CREATE CONSTRAINT TRIGGER subnets_render
    AFTER UPDATE OF name, cidr, vlan_id, gateway_ip, dns_servers, managed, allow_dns, allow_proxy,
                    active_discovery, rdns_mode, description OR DELETE ON subnets
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
DROP TRIGGER vlans_render ON vlans;
CREATE CONSTRAINT TRIGGER vlans_render
    AFTER UPDATE OF fabric_id, vid, name, mtu, dhcp_on, relay_vlan_id, space_id, external_dhcp,
                    description, primary_rack_id, secondary_rack_id OR DELETE ON vlans
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
