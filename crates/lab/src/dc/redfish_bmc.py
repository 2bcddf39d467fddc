# A lab machine's Redfish BMC: sushy-emulator (sushy-tools) with its fake
# driver, whose power state and power actions are replaced by the
# machine's chassis program. `On` starts the qemu process, `ForceOff` kills
# it, and the state read back is whether the process runs (so a guest that
# powers itself off reads Off, as on real hardware).
#
#   python redfish_bmc.py MACHINE_DIR SUSHY_CONFIG
import os
import subprocess
import sys

from sushy_tools import error
from sushy_tools.emulator import main, memoize
from sushy_tools.emulator.resources.systems import fakedriver

DIR = sys.argv[1]
CONFIG = sys.argv[2]


def chassis(*args):
    return subprocess.run(
        [os.path.join(DIR, "chassis.sh"), DIR, *args],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
    ).stdout


class LabDriver(fakedriver.FakeDriver):
    def get_power_state(self, identity):
        self._get(identity)
        return "On" if "power:1" in chassis("get", "power") else "Off"

    def set_power_state(self, identity, state):
        self._get(identity)
        if state in ("On", "ForceOn"):
            chassis("set", "power", "1")
        elif state in ("ForceOff", "GracefulShutdown"):
            chassis("set", "power", "0")
        elif state in ("ForceRestart", "GracefulRestart", "PowerCycle"):
            chassis("set", "reset", "1")
        else:
            raise error.NotSupportedError(f"Power state {state} is not supported")

    def set_boot_device(self, identity, boot_source):
        super().set_boot_device(identity, boot_source)
        chassis("set", "boot", str(boot_source))


fakedriver.FakeDriver = LabDriver
# The fake driver keeps its state in SQLite, by default one file under /tmp
# shared by every emulator on the host: each BMC gets its own, and serves
# one request at a time (a power query once answered HTTP 500 "database is
# locked").
memoize.PersistentDict.DBPATH = os.path.join(DIR, "sushy-state")
main.app.configure(config_file=CONFIG)
main.app.config["SUSHY_EMULATOR_FAKE_DRIVER"] = True
main.app.run(
    host=main.app.config["SUSHY_EMULATOR_LISTEN_IP"],
    port=main.app.config["SUSHY_EMULATOR_LISTEN_PORT"],
    threaded=False,
)
