-- A machine turning network boot off (the deploying environment wrote the
-- OS) changes what its rack's boot server answers: re-push the rack state.
DROP TRIGGER machines_rack_state ON machines;
CREATE TRIGGER machines_rack_state
    AFTER INSERT OR DELETE OR UPDATE OF status, hostname, domain_id, architecture, osystem,
        distro_series, netboot
    ON machines FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
