"""A fake BMC on pyghmi (a second IPMI implementation) for maas-bmc's tests.

Usage: pyghmi_bmc.py PORT STATE_DIR [USER PASSWORD]
The power state and boot device live in STATE_DIR/power and STATE_DIR/boot.
"""
import os
import sys
import uuid

import pyghmi.ipmi.bmc as bmc


class FakeBmc(bmc.Bmc):
    def __init__(self, authdata, port, state):
        self.state = state
        super().__init__(authdata, port=port, address="127.0.0.1")

    def _get(self, name, default):
        try:
            with open(os.path.join(self.state, name)) as f:
                return f.read().strip()
        except OSError:
            return default

    def _set(self, name, value):
        with open(os.path.join(self.state, name), "w") as f:
            f.write(value + "\n")

    def get_power_state(self):
        return self._get("power", "off")

    def power_on(self):
        self._set("power", "on")

    def power_off(self):
        self._set("power", "off")

    def power_shutdown(self):
        self._set("power", "off")

    def power_cycle(self):
        self._set("power", "on")
        self._set("cycles", str(int(self._get("cycles", "0")) + 1))

    def power_reset(self):
        self._set("resets", str(int(self._get("resets", "0")) + 1))

    def get_boot_device(self):
        return self._get("boot", "default")

    def set_boot_device(self, bootdevice):
        self._set("boot", bootdevice)

    def get_system_guid(self):
        return uuid.UUID("5e6c0c2a-0000-4000-8000-000000000012")

    def cold_reset(self):
        pass


if __name__ == "__main__":
    port, state = int(sys.argv[1]), sys.argv[2]
    user = sys.argv[3] if len(sys.argv) > 3 else "admin"
    pw = sys.argv[4] if len(sys.argv) > 4 else "secret"
    FakeBmc({user: pw}, port, state).listen()
