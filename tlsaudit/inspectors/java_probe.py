"""A tiny Java class, assembled here byte by byte, that prints a JVM's effective TLS client settings.

Why assembled rather than compiled: a JRE (or a jlink'ed runtime) has no javac and often no jdk.compiler
module, so neither `javac` nor `java File.java` can be relied on; JVMs before 11 cannot run source files.
The class uses class-file version 49 (Java 5), which needs no stack map frames and loads on every JVM from 5
to today, and calls only APIs present since Java 1.4: System.getProperty, Security.getProperty,
SSLSocketFactory.getDefault().createSocket() and its enabled/supported protocols (the default client context,
so `jdk.tls.client.protocols` and java.security overrides are reflected).

Output, one `key=value` per line (`null` for an unset property), ending with `probe.end=ok`:
    prop.java.version=17.0.15
    security.jdk.tls.disabledAlgorithms=SSLv3, TLSv1, ...
    default.protocols=[TLSv1.3, TLSv1.2]
    supported.protocols=[TLSv1.3, TLSv1.2, TLSv1.1, TLSv1, SSLv3, SSLv2Hello]
"""

from __future__ import annotations

import struct

CLASS_NAME = "TlsauditProbe"

SYSTEM_PROPERTIES: tuple[str, ...] = (
    "java.version",
    "java.vendor",
    "java.vendor.version",
    "java.runtime.name",
    "java.runtime.version",
    "java.vm.name",
    "java.vm.vendor",
    "java.vm.version",
    "java.home",
    "java.specification.version",
    "jdk.tls.client.protocols",
    "https.protocols",
    "java.security.properties",
    "com.ibm.jsse2.overrideDefaultTLS",
    "com.ibm.jsse2.overrideDefaultProtocol",
)
SECURITY_PROPERTIES: tuple[str, ...] = ("jdk.tls.disabledAlgorithms",)

_GETSTATIC, _LDC_W, _INVOKEVIRTUAL, _INVOKESTATIC, _CHECKCAST = 0xB2, 0x13, 0xB6, 0xB8, 0xC0
_ASTORE_1, _ALOAD_1, _RETURN = 0x4C, 0x2B, 0xB1


class _ConstantPool:
    def __init__(self) -> None:
        self._entries: list[bytes] = []
        self._index: dict[tuple[object, ...], int] = {}

    def _add(self, key: tuple[object, ...], data: bytes) -> int:
        if key not in self._index:
            self._entries.append(data)
            self._index[key] = len(self._entries)
        return self._index[key]

    def utf8(self, text: str) -> int:
        raw = text.encode("ascii")
        return self._add(("utf8", text), struct.pack(">BH", 1, len(raw)) + raw)

    def klass(self, name: str) -> int:
        return self._add(("class", name), struct.pack(">BH", 7, self.utf8(name)))

    def string(self, text: str) -> int:
        return self._add(("string", text), struct.pack(">BH", 8, self.utf8(text)))

    def _name_and_type(self, name: str, descriptor: str) -> int:
        return self._add(
            ("nat", name, descriptor), struct.pack(">BHH", 12, self.utf8(name), self.utf8(descriptor))
        )

    def field(self, owner: str, name: str, descriptor: str) -> int:
        data = struct.pack(">BHH", 9, self.klass(owner), self._name_and_type(name, descriptor))
        return self._add(("field", owner, name, descriptor), data)

    def method(self, owner: str, name: str, descriptor: str) -> int:
        data = struct.pack(">BHH", 10, self.klass(owner), self._name_and_type(name, descriptor))
        return self._add(("method", owner, name, descriptor), data)

    def encode(self) -> bytes:
        return struct.pack(">H", len(self._entries) + 1) + b"".join(self._entries)


def probe_class_bytes() -> bytes:
    """The class file of `TlsauditProbe` (deterministic bytes)."""
    cp = _ConstantPool()
    this_class = cp.klass(CLASS_NAME)
    super_class = cp.klass("java/lang/Object")
    out = cp.field("java/lang/System", "out", "Ljava/io/PrintStream;")
    print_ = cp.method("java/io/PrintStream", "print", "(Ljava/lang/String;)V")
    println_s = cp.method("java/io/PrintStream", "println", "(Ljava/lang/String;)V")
    println_o = cp.method("java/io/PrintStream", "println", "(Ljava/lang/Object;)V")
    get_prop = cp.method("java/lang/System", "getProperty", "(Ljava/lang/String;)Ljava/lang/String;")
    get_sec = cp.method("java/security/Security", "getProperty", "(Ljava/lang/String;)Ljava/lang/String;")
    factory = cp.method("javax/net/ssl/SSLSocketFactory", "getDefault", "()Ljavax/net/SocketFactory;")
    create = cp.method("javax/net/SocketFactory", "createSocket", "()Ljava/net/Socket;")
    ssl_socket = cp.klass("javax/net/ssl/SSLSocket")
    enabled = cp.method("javax/net/ssl/SSLSocket", "getEnabledProtocols", "()[Ljava/lang/String;")
    supported = cp.method("javax/net/ssl/SSLSocket", "getSupportedProtocols", "()[Ljava/lang/String;")
    as_list = cp.method("java/util/Arrays", "asList", "([Ljava/lang/Object;)Ljava/util/List;")

    code = bytearray()

    def op(opcode: int, index: int | None = None) -> None:
        code.append(opcode)
        if index is not None:
            code.extend(struct.pack(">H", index))

    def print_label(label: str) -> None:
        op(_GETSTATIC, out)
        op(_LDC_W, cp.string(label))
        op(_INVOKEVIRTUAL, print_)

    def print_lookup(label: str, key: str, getter: int) -> None:
        print_label(label)
        op(_GETSTATIC, out)
        op(_LDC_W, cp.string(key))
        op(_INVOKESTATIC, getter)
        op(_INVOKEVIRTUAL, println_s)

    for key in SYSTEM_PROPERTIES:
        print_lookup(f"prop.{key}=", key, get_prop)
    for key in SECURITY_PROPERTIES:
        print_lookup(f"security.{key}=", key, get_sec)
    op(_INVOKESTATIC, factory)
    op(_INVOKEVIRTUAL, create)
    op(_CHECKCAST, ssl_socket)
    op(_ASTORE_1)
    for label, getter in (("default.protocols=", enabled), ("supported.protocols=", supported)):
        print_label(label)
        op(_GETSTATIC, out)
        op(_ALOAD_1)
        op(_INVOKEVIRTUAL, getter)
        op(_INVOKESTATIC, as_list)
        op(_INVOKEVIRTUAL, println_o)
    op(_GETSTATIC, out)
    op(_LDC_W, cp.string("probe.end=ok"))
    op(_INVOKEVIRTUAL, println_s)
    op(_RETURN)

    code_name = cp.utf8("Code")
    main_name = cp.utf8("main")
    main_desc = cp.utf8("([Ljava/lang/String;)V")
    max_stack, max_locals = 3, 2
    code_attr = struct.pack(">HHI", max_stack, max_locals, len(code)) + bytes(code) + struct.pack(">HH", 0, 0)
    method = struct.pack(">HHHH", 0x0009, main_name, main_desc, 1) + struct.pack(
        ">HI", code_name, len(code_attr)
    )
    method += code_attr
    header = struct.pack(">IHH", 0xCAFEBABE, 0, 49)
    body = struct.pack(">HHHHHH", 0x0021, this_class, super_class, 0, 0, 1) + method + struct.pack(">H", 0)
    return header + cp.encode() + body
