-- The PCI and USB devices commissioning finds (MAAS's node devices). A
-- PCI device is known by its address, a USB device by bus and device
-- number; a device that drives one of the machine's interfaces or disks
-- points at it.
CREATE TABLE node_devices (
    id                   bigserial PRIMARY KEY,
    machine_id           bigint NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
    bus                  smallint NOT NULL CHECK (bus IN (1, 2)),
    hardware_type        smallint NOT NULL DEFAULT 0,
    numa_node            integer NOT NULL DEFAULT 0,
    vendor_id            text NOT NULL,
    product_id           text NOT NULL,
    vendor_name          text NOT NULL DEFAULT '',
    product_name         text NOT NULL DEFAULT '',
    commissioning_driver text NOT NULL DEFAULT '',
    bus_number           integer NOT NULL,
    device_number        integer NOT NULL,
    pci_address          text,
    interface_id         bigint REFERENCES interfaces(id) ON DELETE SET NULL,
    block_device_id      bigint REFERENCES block_devices(id) ON DELETE SET NULL,
    created              timestamptz NOT NULL DEFAULT now(),
    updated              timestamptz NOT NULL DEFAULT now(),
    CHECK ((bus = 1) = (pci_address IS NOT NULL))
);
CREATE UNIQUE INDEX node_devices_pci ON node_devices (machine_id, pci_address)
    WHERE pci_address IS NOT NULL;
CREATE UNIQUE INDEX node_devices_usb ON node_devices (machine_id, bus_number, device_number)
    WHERE bus = 2;
