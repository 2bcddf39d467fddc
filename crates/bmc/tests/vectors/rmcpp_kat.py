import hmac, hashlib, struct
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
rm = bytes(range(0x10, 0x20)); rc = bytes(range(0xa0, 0xb0)); guid = bytes(range(0x40, 0x50))
sid_m = 0x11223344; sid_c = 0xa1b2c3d4; role = 0x14; user = b"admin"; pw = b"secret"
for name, h, icv in (("S3", hashlib.sha1, 12), ("S17", hashlib.sha256, 16)):
    H = lambda k, m: hmac.new(k, m, h).digest()
    n = h().digest_size
    ul = bytes([role, len(user)]) + user
    r2 = H(pw, struct.pack('<II', sid_m, sid_c) + rm + rc + guid + ul)
    r3 = H(pw, rc + struct.pack('<I', sid_m) + ul)
    sik = H(pw, rm + rc + ul)
    k1 = H(sik, b'\x01'*n); k2 = H(sik, b'\x02'*n)
    r4 = H(sik, rm + struct.pack('<I', sid_c) + guid)[:icv]
    integ = H(k1, b'\x06\xc0' + bytes(range(30)))[:icv]
    print(name, "rakp2", r2.hex()); print(name, "rakp3", r3.hex()); print(name, "sik", sik.hex())
    print(name, "k1", k1.hex()); print(name, "k2", k2.hex()); print(name, "rakp4", r4.hex()); print(name, "integ", integ.hex())
    iv = bytes(range(0x60, 0x70)); pt = bytes.fromhex("200018810400010a")  # an IPMI message, 8 bytes
    pad = (16 - (len(pt)+1) % 16) % 16
    buf = pt + bytes(range(1, pad+1)) + bytes([pad])
    e = Cipher(algorithms.AES(k2[:16]), modes.CBC(iv)).encryptor()
    print(name, "aes", (iv + e.update(buf) + e.finalize()).hex())
# IPMI 1.5 MD5 auth code (tests/vectors/md5.hex):
pw = b"secret".ljust(16, b"\0")
print("md5", hashlib.md5(pw + struct.pack('<I', 0x01020304) + bytes([0x20, 0x18, 0xc8]) + struct.pack('<I', 7) + pw).hexdigest())
