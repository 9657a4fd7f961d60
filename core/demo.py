"""The demo data of DESIGN.md section 8, plus a realistic catalogue and trade history.

Loaded by `flask --app app demo`. Deterministic (a fixed random seed) and
idempotent: a second run finds the marker setting and changes nothing.
"""

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from extensions import db

from . import access
from .accounts import hash_password
from .billing import build_invoice
from .models import (
    CENT,
    UNIT,
    AuditEntry,
    Cart,
    CartLine,
    Category,
    Company,
    CreditNote,
    CustomerGroup,
    GroupPrice,
    Invoice,
    Order,
    OrderEvent,
    Payment,
    Product,
    Promotion,
    PromotionGroup,
    Quote,
    QuoteLine,
    QuoteRound,
    QuoteRoundLine,
    Role,
    RolePermission,
    Sequence,
    Setting,
    StockMovement,
    User,
    utcnow,
)
from .offer import offers_for
from .orders import order_line

PASSWORD = "demo-password"
MARKER = "demo.loaded"

STAFF = (
    # email, name, preset, assigned company slugs
    ("admin@portal.test", "Helena Adler", "admin", ()),
    ("manager@portal.test", "Martin Brandt", "manager", ()),
    ("anna.sales@portal.test", "Anna Kowalska", "sales", ("acme", "baltic")),
    ("marco.sales@portal.test", "Marco Rossi", "sales", ("carpathia", "delft")),
    ("warehouse@portal.test", "Walter Hahn", "warehouse", ()),
    ("finance@portal.test", "Fiona Lindqvist", "finance", ()),
    ("viewer@portal.test", "Victor Osei", "readonly", ()),
)

GROUPS = (
    # name, shows promotions, quotes allowed, stock display, description
    ("Wholesale", True, True, "exact", "Volume buyers: group prices, promotions, exact stock"),
    ("Partner", True, True, "levels", "Contract partners: group prices, promotions, stock levels"),
    ("Standard", False, False, "levels", "Everyone else: base prices, stock levels"),
)

COMPANIES = (
    # name, slug, group, payment terms, approval limit, people's names (orders, request, browse)
    (
        "Acme Robotics",
        "acme",
        "Wholesale",
        30,
        Decimal("5000.00"),
        ("Olivia Grant", "Ravi Menon", "Bruno Keller"),
    ),
    ("Baltic Drones", "baltic", "Partner", 30, None, ("Liis Tamm", "Jonas Petraitis", "Eva Ozols")),
    (
        "Carpathia Makers",
        "carpathia",
        "Standard",
        14,
        None,
        ("Ioana Pop", "Mihai Stan", "Dana Rusu"),
    ),
    (
        "Delft Devices",
        "delft",
        "Partner",
        45,
        None,
        ("Daan de Vries", "Sanne Bakker", "Pieter Smit"),
    ),
    (
        "Etna Labs",
        "etna",
        "Wholesale",
        30,
        None,
        ("Giulia Russo", "Salvatore Greco", "Chiara Conti"),
    ),
)
CUSTOMER_ROLES = (("orders", "decision_maker"), ("request", "requester"), ("browse", "browse_only"))

EXACT_ROWS = (
    # sku, name, category slug, base, cost, Wholesale, Partner, stock
    (
        "MCU-STM32F401",
        "STM32F401 microcontroller",
        "microcontrollers",
        "6.40",
        "3.90",
        "5.20",
        "6.00",
        4217,
    ),
    ("CAP-1206-10U", "Capacitor 10 µF 1206", "capacitors", "0.18", "0.07", "0.12", "0.16", 36),
    ("CON-USBC-16P", "USB-C receptacle 16 pin", "connectors", "0.95", "0.41", "0.80", "0.90", 0),
)

CATEGORIES = (
    (
        "Semiconductors",
        "semiconductors",
        (
            ("Microcontrollers", "microcontrollers"),
            ("Voltage regulators", "regulators"),
            ("Transistors", "transistors"),
            ("Diodes", "diodes"),
            ("Memory", "memory"),
            ("Sensors", "sensors"),
            ("Amplifiers", "amplifiers"),
        ),
    ),
    (
        "Passive components",
        "passives",
        (
            ("Capacitors", "capacitors"),
            ("Resistors", "resistors"),
            ("Inductors", "inductors"),
            ("Crystals & oscillators", "crystals"),
            ("Fuses & protection", "fuses"),
        ),
    ),
    (
        "Electromechanical",
        "electromechanical",
        (
            ("Connectors", "connectors"),
            ("Switches", "switches"),
            ("Relays", "relays"),
        ),
    ),
    ("Optoelectronics", "optoelectronics", (("LEDs", "leds"), ("Displays", "displays"))),
)


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    category: str
    base: Decimal
    specs: dict
    description: str = ""


def _d(value) -> Decimal:
    return Decimal(str(value)).quantize(UNIT, ROUND_HALF_UP)


def _priced(value: Decimal) -> Decimal:
    """Prices from ten cents up are in whole cents; cheaper parts keep sub-cent precision."""
    return value.quantize(UNIT if value < Decimal("0.1") else CENT, ROUND_HALF_UP)


def _price(rng: random.Random, low: float, high: float) -> Decimal:
    return _priced(Decimal(str(rng.uniform(low, high))))


def catalogue_items(rng: random.Random) -> list[Item]:
    """A few hundred realistic components across the categories."""
    items: list[Item] = []

    mcus = [
        ("STM32F030F4", "ARM Cortex-M0", "48 MHz", "16 KB", "TSSOP-20", 0.9, 1.4),
        ("STM32F103C8", "ARM Cortex-M3", "72 MHz", "64 KB", "LQFP-48", 2.1, 3.2),
        ("STM32F411CE", "ARM Cortex-M4F", "100 MHz", "512 KB", "UFQFPN-48", 4.5, 6.2),
        ("STM32G031K8", "ARM Cortex-M0+", "64 MHz", "64 KB", "LQFP-32", 1.1, 1.8),
        ("STM32G474RE", "ARM Cortex-M4F", "170 MHz", "512 KB", "LQFP-64", 6.8, 8.9),
        ("STM32L432KC", "ARM Cortex-M4F", "80 MHz", "256 KB", "UFQFPN-32", 4.2, 5.6),
        ("STM32H743VI", "ARM Cortex-M7", "480 MHz", "2 MB", "LQFP-100", 13.5, 17.9),
        ("ATMEGA328P-AU", "AVR", "20 MHz", "32 KB", "TQFP-32", 1.9, 2.7),
        ("ATTINY85-20SU", "AVR", "20 MHz", "8 KB", "SOIC-8", 1.0, 1.5),
        ("RP2040", "Dual ARM Cortex-M0+", "133 MHz", "external", "QFN-56", 0.7, 1.1),
        ("ESP32-S3-WROOM-1", "Xtensa LX7 + Wi-Fi/BLE", "240 MHz", "8 MB", "module", 3.1, 4.4),
        ("ESP32-C3-MINI-1", "RISC-V + Wi-Fi/BLE", "160 MHz", "4 MB", "module", 1.8, 2.6),
        ("NRF52840-QIAA", "ARM Cortex-M4F + BLE", "64 MHz", "1 MB", "aQFN-73", 4.9, 6.4),
        ("ATSAMD21G18A-AU", "ARM Cortex-M0+", "48 MHz", "256 KB", "TQFP-48", 2.6, 3.6),
        ("PIC16F877A-I/P", "PIC", "20 MHz", "14 KB", "DIP-40", 4.1, 5.5),
        ("GD32F303CCT6", "ARM Cortex-M4", "120 MHz", "256 KB", "LQFP-48", 1.9, 2.8),
        ("CH32V003F4P6", "RISC-V", "48 MHz", "16 KB", "TSSOP-20", 0.1, 0.2),
        ("MSP430G2553IPW", "MSP430", "16 MHz", "16 KB", "TSSOP-20", 1.7, 2.4),
    ]
    for part, core, clock, flash, package, low, high in mcus:
        items.append(
            Item(
                f"MCU-{part}",
                f"{part} microcontroller",
                "microcontrollers",
                _price(rng, low, high),
                {"Core": core, "Clock": clock, "Flash": flash, "Package": package},
            )
        )

    regulators = [
        ("AMS1117-3.3", "LDO 3.3 V 1 A", "SOT-223"),
        ("AMS1117-5.0", "LDO 5 V 1 A", "SOT-223"),
        ("LM1117MPX-3.3", "LDO 3.3 V 800 mA", "SOT-223"),
        ("MCP1700T-3302E", "LDO 3.3 V 250 mA", "SOT-23"),
        ("AP2112K-3.3", "LDO 3.3 V 600 mA", "SOT-23-5"),
        ("LM7805CT", "Linear 5 V 1.5 A", "TO-220"),
        ("LM2596S-5.0", "Buck 5 V 3 A", "TO-263-5"),
        ("TPS62160DGK", "Buck 1 A 3–17 V", "VSSOP-8"),
        ("TPS63020DSJ", "Buck-boost 4 A", "VSON-14"),
        ("MP1584EN", "Buck 3 A 28 V", "SOIC-8"),
        ("XL6009E1", "Boost 4 A", "TO-263-5"),
        ("TLV75533PDBV", "LDO 3.3 V 500 mA", "SOT-23-5"),
        ("LP5907MFX-3.3", "LDO 3.3 V 250 mA low noise", "SOT-23-5"),
        ("MT3608", "Boost 2 A", "SOT-23-6"),
    ]
    for part, what, package in regulators:
        items.append(
            Item(
                f"REG-{part}",
                f"{part} regulator, {what}",
                "regulators",
                _price(rng, 0.08, 3.5),
                {"Type": what, "Package": package},
            )
        )

    transistors = [
        ("2N7002", "N-MOSFET 60 V 300 mA", "SOT-23"),
        ("BSS138", "N-MOSFET 50 V 220 mA", "SOT-23"),
        ("AO3400A", "N-MOSFET 30 V 5.7 A", "SOT-23"),
        ("AO3401A", "P-MOSFET 30 V 4 A", "SOT-23"),
        ("SI2302CDS", "N-MOSFET 20 V 2.6 A", "SOT-23"),
        ("IRLZ44NPBF", "N-MOSFET 55 V 47 A", "TO-220"),
        ("IRF540NPBF", "N-MOSFET 100 V 33 A", "TO-220"),
        ("BC847B", "NPN 45 V 100 mA", "SOT-23"),
        ("BC857B", "PNP 45 V 100 mA", "SOT-23"),
        ("MMBT3904", "NPN 40 V 200 mA", "SOT-23"),
        ("MMBT3906", "PNP 40 V 200 mA", "SOT-23"),
        ("TIP120", "NPN Darlington 60 V 5 A", "TO-220"),
        ("DMG2305UX", "P-MOSFET 20 V 4.2 A", "SOT-23"),
        ("BSS84", "P-MOSFET 50 V 130 mA", "SOT-23"),
    ]
    for part, what, package in transistors:
        items.append(
            Item(
                f"TRN-{part}",
                f"{part} transistor, {what}",
                "transistors",
                _price(rng, 0.02, 1.2),
                {"Type": what, "Package": package},
            )
        )

    diodes = [
        ("1N4148W", "Switching 100 V 150 mA", "SOD-123"),
        ("1N4007", "Rectifier 1000 V 1 A", "DO-41"),
        ("SS34", "Schottky 40 V 3 A", "SMA"),
        ("SS14", "Schottky 40 V 1 A", "SMA"),
        ("BAT54S", "Dual Schottky 30 V", "SOT-23"),
        ("SMBJ5.0A", "TVS 5 V 600 W", "SMB"),
        ("SMAJ12A", "TVS 12 V 400 W", "SMA"),
        ("BZT52C3V3", "Zener 3.3 V", "SOD-123"),
        ("BZT52C5V1", "Zener 5.1 V", "SOD-123"),
        ("MBR0520", "Schottky 20 V 0.5 A", "SOD-123"),
        ("US1M", "Ultrafast 1000 V 1 A", "SMA"),
        ("PESD5V0S1BA", "ESD protection 5 V", "SOD-323"),
    ]
    for part, what, package in diodes:
        items.append(
            Item(
                f"DIO-{part}",
                f"{part} diode, {what}",
                "diodes",
                _price(rng, 0.01, 0.45),
                {"Type": what, "Package": package},
            )
        )

    memory = [
        ("W25Q128JVSIQ", "SPI NOR flash 128 Mbit", "SOIC-8"),
        ("W25Q32JVSSIQ", "SPI NOR flash 32 Mbit", "SOIC-8"),
        ("AT24C256C-SSHL", "I²C EEPROM 256 Kbit", "SOIC-8"),
        ("24LC64T-I/OT", "I²C EEPROM 64 Kbit", "SOT-23-5"),
        ("IS62WV51216BLL", "SRAM 8 Mbit", "TSOP-44"),
        ("MX25L6433FM2I", "SPI NOR flash 64 Mbit", "SOP-8"),
        ("FM24CL64B-GTR", "I²C F-RAM 64 Kbit", "SOIC-8"),
        ("IS42S16400J", "SDRAM 64 Mbit", "TSOP-54"),
        ("W25N01GVZEIG", "SPI NAND flash 1 Gbit", "WSON-8"),
        ("23LC1024-I/SN", "SPI SRAM 1 Mbit", "SOIC-8"),
    ]
    for part, what, package in memory:
        items.append(
            Item(
                f"MEM-{part}",
                f"{part} {what}",
                "memory",
                _price(rng, 0.25, 4.8),
                {"Type": what, "Package": package},
            )
        )

    sensors = [
        ("BME280", "Pressure, humidity, temperature", "LGA-8"),
        ("BMP390", "Barometric pressure", "LGA-10"),
        ("MPU-6050", "6-axis IMU", "QFN-24"),
        ("ICM-42688-P", "6-axis IMU", "LGA-14"),
        ("LIS3DH", "3-axis accelerometer", "LGA-16"),
        ("TMP117AIDRV", "Digital temperature ±0.1 °C", "WSON-6"),
        ("SHT31-DIS", "Humidity and temperature", "DFN-8"),
        ("VL53L0X", "Time-of-flight distance", "LGA-12"),
        ("INA219AIDR", "Current and power monitor", "SOIC-8"),
        ("HX711", "24-bit ADC for load cells", "SOP-16"),
        ("DS18B20", "1-Wire temperature", "TO-92"),
        ("MAX31855KASA", "Thermocouple to digital", "SOIC-8"),
        ("QMC5883L", "3-axis magnetometer", "LGA-16"),
        ("AHT20", "Humidity and temperature", "DFN-6"),
    ]
    for part, what, package in sensors:
        items.append(
            Item(
                f"SEN-{part}",
                f"{part} sensor, {what.lower()}",
                "sensors",
                _price(rng, 0.6, 9.5),
                {"Measures": what, "Package": package},
            )
        )

    amplifiers = [
        ("LM358DR", "Dual op-amp 1 MHz"),
        ("MCP6002T-I/SN", "Dual op-amp rail-to-rail 1 MHz"),
        ("OPA2333AIDR", "Dual zero-drift op-amp"),
        ("TL072CDR", "Dual JFET op-amp"),
        ("AD8605ARTZ", "Precision CMOS op-amp"),
        ("LMV321IDBVR", "Single rail-to-rail op-amp"),
        ("INA128UA", "Instrumentation amplifier"),
        ("TPA3116D2", "Class-D audio amplifier 2×50 W"),
        ("LM386MX-1", "Audio amplifier 0.3 W"),
        ("NE5532DR", "Dual low-noise op-amp"),
    ]
    for part, what in amplifiers:
        items.append(
            Item(
                f"AMP-{part}",
                f"{part} {what.lower()}",
                "amplifiers",
                _price(rng, 0.1, 6.5),
                {"Type": what},
            )
        )

    for package in ("0402", "0603", "0805", "1206"):
        for value, label, volts in (
            ("10P", "10 pF", "50 V"),
            ("100P", "100 pF", "50 V"),
            ("1N", "1 nF", "50 V"),
            ("10N", "10 nF", "50 V"),
            ("100N", "100 nF", "50 V"),
            ("1U", "1 µF", "25 V"),
            ("4U7", "4.7 µF", "16 V"),
            ("10U", "10 µF", "16 V"),
            ("22U", "22 µF", "10 V"),
        ):
            sku = f"CAP-{package}-{value}"
            if sku == "CAP-1206-10U":
                continue  # one of the exact rows, added below
            items.append(
                Item(
                    sku,
                    f"Capacitor {label} {package}",
                    "capacitors",
                    _price(rng, 0.004, 0.09),
                    {
                        "Capacitance": label,
                        "Voltage": volts,
                        "Dielectric": "X7R",
                        "Package": package,
                    },
                )
            )
    for package in ("0402", "0603", "0805", "1206"):
        for value, label in (
            ("0R", "0 Ω"),
            ("10R", "10 Ω"),
            ("100R", "100 Ω"),
            ("1K", "1 kΩ"),
            ("4K7", "4.7 kΩ"),
            ("10K", "10 kΩ"),
            ("47K", "47 kΩ"),
            ("100K", "100 kΩ"),
            ("1M", "1 MΩ"),
        ):
            items.append(
                Item(
                    f"RES-{package}-{value}",
                    f"Resistor {label} 1% {package}",
                    "resistors",
                    _price(rng, 0.001, 0.02),
                    {"Resistance": label, "Tolerance": "1%", "Package": package},
                )
            )
    for size in ("0603", "1008", "4020", "6045"):
        for value, label in (
            ("1U", "1 µH"),
            ("4U7", "4.7 µH"),
            ("10U", "10 µH"),
            ("22U", "22 µH"),
            ("100U", "100 µH"),
        ):
            items.append(
                Item(
                    f"IND-{size}-{value}",
                    f"Inductor {label} {size}",
                    "inductors",
                    _price(rng, 0.03, 0.9),
                    {"Inductance": label, "Size": size},
                )
            )
    for freq, package in (
        ("8MHZ", "3225"),
        ("12MHZ", "3225"),
        ("16MHZ", "3225"),
        ("25MHZ", "2520"),
        ("32K768", "2012"),
        ("24MHZ", "2016"),
        ("48MHZ-OSC", "2520"),
        ("40MHZ", "2016"),
    ):
        label = (
            "32.768 kHz" if freq == "32K768" else freq.replace("MHZ", " MHz").replace("-OSC", "")
        )
        kind = "Oscillator" if freq.endswith("OSC") else "Crystal"
        items.append(
            Item(
                f"XTL-{freq}-{package}",
                f"{kind} {label} {package}",
                "crystals",
                _price(rng, 0.08, 1.1),
                {"Frequency": label, "Package": package},
            )
        )
    for rating in ("100MA", "250MA", "500MA", "1A", "2A", "3A", "5A"):
        label = (
            rating.replace("MA", " mA").replace("A", " A") if "MA" in rating else rating[:-1] + " A"
        )
        items.append(
            Item(
                f"FUS-PTC-{rating}",
                f"Resettable fuse {label} 1206",
                "fuses",
                _price(rng, 0.04, 0.3),
                {"Hold current": label, "Package": "1206"},
            )
        )
        items.append(
            Item(
                f"FUS-FAST-{rating}",
                f"Fast-acting fuse {label} 0603",
                "fuses",
                _price(rng, 0.05, 0.35),
                {"Rating": label, "Package": "0603"},
            )
        )

    for pins in range(2, 9):
        items.append(
            Item(
                f"CON-JSTPH-{pins}P",
                f"JST PH {pins}-pin header, 2.0 mm",
                "connectors",
                _price(rng, 0.03, 0.2),
                {"Pitch": "2.0 mm", "Pins": pins},
            )
        )
        items.append(
            Item(
                f"CON-JSTXH-{pins}P",
                f"JST XH {pins}-pin header, 2.5 mm",
                "connectors",
                _price(rng, 0.03, 0.2),
                {"Pitch": "2.5 mm", "Pins": pins},
            )
        )
    for pins in (2, 3, 4, 6, 8, 10, 20, 40):
        items.append(
            Item(
                f"CON-HDR-1X{pins}",
                f"Pin header 1×{pins}, 2.54 mm",
                "connectors",
                _price(rng, 0.02, 0.3),
                {"Pitch": "2.54 mm", "Pins": pins},
            )
        )
    for sku, name in (
        ("CON-USBMICRO-B", "Micro-USB B receptacle"),
        ("CON-RJ45-MAG", "RJ45 jack with magnetics"),
        ("CON-SMA-EDGE", "SMA edge-mount jack"),
        ("CON-TB-2P-508", "Terminal block 2-pin 5.08 mm"),
        ("CON-TB-3P-508", "Terminal block 3-pin 5.08 mm"),
        ("CON-FPC-24P-05", "FPC connector 24-pin 0.5 mm"),
        ("CON-SD-PUSH", "microSD card socket, push-push"),
        ("CON-DC-2.1", "DC barrel jack 2.1 mm"),
    ):
        items.append(Item(sku, name, "connectors", _price(rng, 0.1, 1.6), {"Mounting": "SMD/THT"}))
    for sku, name in (
        ("SW-TACT-6X6", "Tactile switch 6×6 mm"),
        ("SW-TACT-3X4", "Tactile switch 3×4 mm"),
        ("SW-SLIDE-SPDT", "Slide switch SPDT"),
        ("SW-DIP-4", "DIP switch 4 positions"),
        ("SW-DIP-8", "DIP switch 8 positions"),
        ("SW-ROCKER-10A", "Rocker switch 10 A"),
        ("SW-ENC-EC11", "Rotary encoder EC11 with push"),
        ("SW-MICRO-LEVER", "Micro switch with lever"),
    ):
        items.append(Item(sku, name, "switches", _price(rng, 0.03, 1.4), {"Type": name}))
    for sku, name in (
        ("RLY-G5V-1-5V", "Signal relay 5 V SPDT"),
        ("RLY-SRD-05VDC", "Power relay 5 V 10 A"),
        ("RLY-SRD-12VDC", "Power relay 12 V 10 A"),
        ("RLY-AQY212", "Solid-state relay 60 V"),
        ("RLY-HF46F-24", "Power relay 24 V 5 A"),
        ("RLY-TQ2-3V", "Signal relay 3 V DPDT"),
    ):
        items.append(Item(sku, name, "relays", _price(rng, 0.4, 3.8), {"Type": name}))
    for package in ("0603", "0805", "5MM"):
        for colour in ("RED", "GREEN", "BLUE", "WHITE", "YELLOW", "AMBER"):
            label = "5 mm" if package == "5MM" else package
            items.append(
                Item(
                    f"LED-{package}-{colour}",
                    f"LED {colour.lower()} {label}",
                    "leds",
                    _price(rng, 0.008, 0.12),
                    {"Colour": colour.lower(), "Package": label},
                )
            )
    items.append(
        Item(
            "LED-WS2812B",
            "WS2812B addressable RGB LED 5050",
            "leds",
            _price(rng, 0.05, 0.12),
            {"Interface": "single wire", "Package": "5050"},
        )
    )
    for sku, name in (
        ("DSP-SSD1306-096", 'OLED display 0.96" 128×64 I²C'),
        ("DSP-SH1106-13", 'OLED display 1.3" 128×64 I²C'),
        ("DSP-ST7789-154", 'TFT display 1.54" 240×240 SPI'),
        ("DSP-ILI9341-28", 'TFT display 2.8" 320×240 SPI'),
        ("DSP-LCD1602-I2C", "Character LCD 16×2 with I²C"),
        ("DSP-EPD-29", 'E-paper display 2.9" 296×128'),
        ("DSP-7SEG-4D", "7-segment display, 4 digits"),
    ):
        items.append(Item(sku, name, "displays", _price(rng, 1.2, 12.0), {"Type": name}))
    return items


def ensure_presets() -> dict[str, Role]:
    """The preset roles, created if missing (their permissions are not reset if edited)."""
    roles = {r.preset: r for r in db.session.scalars(select(Role).where(Role.preset.is_not(None)))}
    for preset in access.PRESETS:
        if preset.key in roles:
            continue
        role = Role(
            name=preset.name, scope=preset.scope, preset=preset.key, description=preset.description
        )
        role.grants = [RolePermission(permission=p) for p in sorted(preset.permissions)]
        db.session.add(role)
        roles[preset.key] = role
    db.session.flush()
    return roles


def next_number(name: str) -> int:
    """Advance a gapless counter (the demo is the only writer while it loads)."""
    seq = db.session.get(Sequence, name)
    if seq is None:
        seq = Sequence(name=name, next_value=1)
        db.session.add(seq)
    value = seq.next_value
    seq.next_value = value + 1
    return value


def is_loaded() -> bool:
    return db.session.get(Setting, MARKER) is not None


def load() -> bool:
    """Load everything in one transaction. Returns False when it was already loaded."""
    if is_loaded():
        return False
    rng = random.Random(20261123)
    now = utcnow().replace(microsecond=0)
    roles = ensure_presets()
    password_hash = hash_password(PASSWORD)  # one hash for the shared demo password

    groups = {}
    for name, promos, quotes, display, description in GROUPS:
        groups[name] = CustomerGroup(
            name=name,
            shows_promotions=promos,
            quotes_allowed=quotes,
            stock_display=display,
            few_from=1,
            many_from=50,
            description=description,
        )
        db.session.add(groups[name])

    companies: dict[str, Company] = {}
    people: dict[str, User] = {}
    for name, slug, group, terms, limit, names in COMPANIES:
        company = Company(
            name=name,
            slug=slug,
            group=groups[group],
            payment_terms_days=terms,
            approval_limit=limit,
            email=f"office@{slug}.test",
            address=f"{name}\n1 Industrial Way\nEurope",
            vat_number=f"EU{rng.randrange(10**8, 10**9)}",
        )
        db.session.add(company)
        companies[slug] = company
        for (local, preset), person in zip(CUSTOMER_ROLES, names, strict=True):
            email = f"{local}@{slug}.test"
            user = User(
                email=email,
                name=person,
                kind="customer",
                company=company,
                status="active",
                password_hash=password_hash,
                password_changed_at=now,
                roles=[roles[preset]],
            )
            db.session.add(user)
            people[email] = user

    for email, name, preset, assigned in STAFF:
        user = User(
            email=email,
            name=name,
            kind="staff",
            status="active",
            password_hash=password_hash,
            password_changed_at=now,
            roles=[roles[preset]],
        )
        user.assigned_companies = [companies[s] for s in assigned]
        db.session.add(user)
        people[email] = user

    categories: dict[str, Category] = {}
    for position, (name, slug, children) in enumerate(CATEGORIES):
        parent = Category(name=name, slug=slug, position=position * 10)
        db.session.add(parent)
        categories[slug] = parent
        for child_position, (child_name, child_slug) in enumerate(children):
            categories[child_slug] = Category(
                name=child_name,
                slug=child_slug,
                parent=parent,
                position=position * 10 + child_position + 1,
            )
            db.session.add(categories[child_slug])

    products: dict[str, Product] = {}
    group_prices = []
    for sku, name, cat, base, cost, wholesale, partner, stock in EXACT_ROWS:
        product = Product(
            sku=sku,
            name=name,
            category=categories[cat],
            base_price=_d(base),
            cost=_d(cost),
            stock=stock,
            created_at=now - timedelta(days=200),
            description=f"{name}. Reel and cut-tape packaging available.",
            specs={"Manufacturer part": sku.split("-", 1)[1]},
        )
        products[sku] = product
        group_prices.append((groups["Wholesale"], product, _d(wholesale)))
        group_prices.append((groups["Partner"], product, _d(partner)))
    for item in catalogue_items(rng):
        cost = (item.base * Decimal(str(rng.uniform(0.35, 0.7)))).quantize(UNIT)
        stock = rng.choice([0, rng.randint(1, 49), rng.randint(50, 5000), rng.randint(50, 20000)])
        products[item.sku] = Product(
            sku=item.sku,
            name=item.name,
            category=categories[item.category],
            base_price=item.base,
            cost=cost,
            stock=stock,
            specs=item.specs,
            description=item.description or f"{item.name}. In stock at our EU warehouse.",
            created_at=now - timedelta(days=rng.randint(1, 400)),
        )
        if rng.random() < 0.3:
            factor = Decimal(str(rng.uniform(0.80, 0.90)))
            group_prices.append(
                (groups["Wholesale"], products[item.sku], _priced(item.base * factor))
            )
            factor = Decimal(str(rng.uniform(0.90, 0.97)))
            group_prices.append(
                (groups["Partner"], products[item.sku], _priced(item.base * factor))
            )
    db.session.add_all(products.values())
    db.session.flush()
    db.session.add_all(GroupPrice(group=g, product=p, price=price) for g, p, price in group_prices)
    db.session.add_all(
        StockMovement(
            product_id=p.id,
            kind="initial",
            delta=p.stock,
            stock_before=0,
            stock_after=p.stock,
            reason="Opening stock",
            created_at=p.created_at,
        )
        for p in products.values()
    )

    spring = Promotion(
        name="MCU spring sale",
        description="Spring discount on STM32F401",
        starts_at=now - timedelta(days=30),
        ends_at=now + timedelta(days=120),
        products=[products["MCU-STM32F401"]],
    )
    spring.group_terms = [
        PromotionGroup(group=groups["Wholesale"], discount_percent=Decimal("10")),
        PromotionGroup(group=groups["Partner"], discount_percent=Decimal("5")),
    ]
    resistors = Promotion(
        name="Resistor restock week",
        description="Thick-film resistors",
        starts_at=now - timedelta(days=2),
        ends_at=now + timedelta(days=60),
        categories=[categories["resistors"]],
    )
    resistors.group_terms = [
        PromotionGroup(group=groups["Wholesale"], discount_percent=Decimal("8"))
    ]
    past = Promotion(
        name="Winter sensor deal",
        description="Ended",
        starts_at=now - timedelta(days=120),
        ends_at=now - timedelta(days=60),
        categories=[categories["sensors"]],
    )
    past.group_terms = [
        PromotionGroup(group=groups["Wholesale"], discount_percent=Decimal("12")),
        PromotionGroup(group=groups["Partner"], discount_percent=Decimal("6")),
    ]
    db.session.add_all([spring, resistors, past])
    db.session.flush()

    _trade_history(rng, now, companies, people, products)
    _credit_notes(now, companies, people)

    db.session.add_all(
        [
            Setting(
                key="seller",
                value={
                    "name": "Northwind Components GmbH",
                    "address": "Hafenstraße 12\n20457 Hamburg\nGermany",
                    "vat_number": "DE123456789",
                    "email": "sales@northwind.test",
                    "bank": "IBAN DE89 3704 0044 0532 0130 00",
                },
            ),
            Setting(key="stock.thresholds", value={"few_from": 1, "many_from": 50}),
            Setting(key="payment_terms_days", value=30),
            Setting(key="invitation_hours", value=72),
            Setting(key=MARKER, value=now.isoformat()),
        ]
    )
    db.session.add(AuditEntry(action="demo.loaded", summary="Demo data loaded", created_at=now))
    db.session.commit()
    return True


def _credit_notes(now, companies, people):
    """Two credit notes against open invoices (Baltic's confirmed, Delft's shipped order)."""
    finance = people["finance@portal.test"]
    plan = (
        ("baltic", "confirmed", None, "Two reels arrived damaged: credited as agreed."),
        ("delft", "shipped", Decimal("25.00"), "Goodwill credit for the late shipment."),
    )
    for slug, status, amount, reason in plan:
        invoice = db.session.scalar(
            select(Invoice)
            .join(Order, Order.id == Invoice.order_id)
            .where(Invoice.company_id == companies[slug].id, Order.status == status)
            .order_by(Invoice.number)
            .limit(1)
        )
        if invoice is None or invoice.balance <= 0:
            continue
        credit = min(amount or (invoice.total / 10).quantize(CENT), invoice.balance)
        invoice.credited_total = credit
        db.session.add(
            CreditNote(
                number=next_number("credit_note"),
                company_id=invoice.company_id,
                invoice_id=invoice.id,
                amount=credit,
                reason=reason,
                currency=invoice.currency,
                issued_at=min(invoice.issued_at + timedelta(days=3), now),
                issued_by=finance,
            )
        )
    db.session.flush()


def _lines_for(rng, products, count):
    pool = [p for p in products.values() if p.stock > 0]
    return [(p, rng.choice([1, 2, 5, 10, 25, 50, 100])) for p in rng.sample(pool, count)]


def _order(company, placed_by, lines, offers, created, status, staff, number, rng):
    order = Order(
        number=f"SO-{number:05d}",
        company=company,
        placed_by=placed_by,
        status=status,
        created_at=created,
        updated_at=created,
    )
    order.lines = [order_line(product, offers[product.id], quantity) for product, quantity in lines]
    order.total = sum((line.line_total for line in order.lines), Decimal(0))
    steps = ["placed", "confirmed", "shipped", "delivered"]
    path = ["placed", "cancelled"] if status == "cancelled" else steps[: steps.index(status) + 1]
    when = created
    for step in path:
        who = placed_by if step == "placed" else staff
        order.events.append(
            OrderEvent(
                status=step,
                user=who,
                created_at=when,
                note="Cancelled at the customer's request" if step == "cancelled" else "",
            )
        )
        when += timedelta(days=rng.randint(1, 3), hours=rng.randint(1, 8))
    return order


def _invoice(order, issued):
    return build_invoice(order, next_number("invoice"), issued)


def _trade_history(rng, now, companies, people, products):
    """Orders in every state with invoices and payments; quotes in every state; carts."""
    finance = people["finance@portal.test"]
    warehouse = people["warehouse@portal.test"]
    plan = {
        "acme": ["delivered", "delivered", "shipped", "confirmed", "placed", "cancelled"],
        "baltic": ["delivered", "shipped", "confirmed", "placed"],
        "carpathia": ["delivered", "confirmed", "placed"],
        "delft": ["delivered", "shipped", "placed", "cancelled"],
        "etna": ["delivered", "confirmed"],
    }
    # Interleave companies by date, so order and invoice numbers follow time.
    entries = [(slug, status) for slug, statuses in plan.items() for status in statuses]
    dated = sorted(
        (
            (now - timedelta(days=rng.randint(3, 110), hours=rng.randint(0, 20)), slug, status)
            for slug, status in entries
        ),
        key=lambda e: e[0],
    )
    for created, slug, status in dated:
        company = companies[slug]
        buyer = people[f"orders@{slug}.test"]
        lines = _lines_for(rng, products, rng.randint(1, 4))
        offers = offers_for(company.group, [p for p, _ in lines], at=created)
        order = _order(
            company, buyer, lines, offers, created, status, warehouse, next_number("order"), rng
        )
        db.session.add(order)
        if status in ("confirmed", "shipped", "delivered"):
            issued = created + timedelta(days=1)
            invoice = _invoice(order, issued)
            db.session.add(invoice)
            if status == "delivered" or (status == "shipped" and rng.random() < 0.5):
                paid = (
                    invoice.total if status == "delivered" else (invoice.total / 2).quantize(CENT)
                )
                invoice.payments.append(
                    Payment(
                        amount=paid,
                        received_on=(issued + timedelta(days=rng.randint(5, 25))).date(),
                        method="transfer",
                        reference=f"BANK-{rng.randrange(10**6, 10**7)}",
                        recorded_by=finance,
                        created_at=issued + timedelta(days=26),
                    )
                )
                invoice.paid_total = paid
    db.session.flush()

    quote_plan = [
        ("acme", "requested", None),
        ("acme", "offered", 20),
        ("acme", "accepted", 10),
        ("baltic", "countered", 15),
        ("baltic", "expired", -5),
        ("delft", "offered", 25),
        ("etna", "rejected", None),
    ]
    for slug, status, valid_days in quote_plan:
        company = companies[slug]
        requester = people[f"request@{slug}.test"]
        rep = company.reps[0] if company.reps else people["manager@portal.test"]
        created = now - timedelta(days=rng.randint(10, 40))
        quote = Quote(
            number=f"QT-{next_number('quote'):05d}",
            company=company,
            requested_by=requester,
            status=status,
            created_at=created,
            note="Volume pricing for our next production run, please.",
            valid_until=(now + timedelta(days=valid_days)).date()
            if valid_days is not None
            else None,
        )
        chosen = _lines_for(rng, products, rng.randint(1, 3))
        quantities = [(p, q * 10) for p, q in chosen]
        quote.lines = [QuoteLine(product=p, quantity=q) for p, q in quantities]
        request = QuoteRound(
            author=requester, side="customer", action="request", created_at=created, note=quote.note
        )
        request.lines = [QuoteRoundLine(product=p, quantity=q) for p, q in quantities]
        quote.rounds.append(request)
        if status != "requested":
            offered = [
                (p, q, (p.base_price * Decimal("0.85")).quantize(UNIT)) for p, q in quantities
            ]
            offer_round = QuoteRound(
                author=rep,
                side="staff",
                action="offer",
                created_at=created + timedelta(days=1),
                valid_until=quote.valid_until,
                note="Our best price for these quantities.",
            )
            offer_round.lines = [
                QuoteRoundLine(product=p, quantity=q, unit_price=price) for p, q, price in offered
            ]
            quote.rounds.append(offer_round)
            for line, (_, _, price) in zip(quote.lines, offered, strict=True):
                line.unit_price = price
        if status == "countered":
            counter = QuoteRound(
                author=people[f"orders@{slug}.test"],
                side="customer",
                action="counter",
                created_at=created + timedelta(days=2),
                note="Could you go a little lower?",
            )
            counter.lines = [
                QuoteRoundLine(
                    product=line.product,
                    quantity=line.quantity,
                    unit_price=(line.unit_price * Decimal("0.95")).quantize(UNIT),
                )
                for line in quote.lines
            ]
            quote.rounds.append(counter)
        if status in ("accepted", "rejected"):
            decider = people[f"orders@{slug}.test"]
            quote.rounds.append(
                QuoteRound(
                    author=decider,
                    side="customer",
                    action="accept" if status == "accepted" else "reject",
                    created_at=created + timedelta(days=3),
                    note="Thank you." if status == "accepted" else "We found another source.",
                )
            )
        if status == "expired":
            quote.rounds.append(
                QuoteRound(
                    side="staff",
                    action="expire",
                    created_at=now - timedelta(days=4),
                    note="The offer's validity ended.",
                )
            )
        db.session.add(quote)
        if status == "accepted":
            offers = {line.product.id: line for line in quote.lines}
            order = Order(
                number=f"SO-{next_number('order'):05d}",
                company=company,
                placed_by=people[f"orders@{slug}.test"],
                status="placed",
                quote=quote,
                created_at=created + timedelta(days=3),
            )
            quoted = offers_for(company.group, [line.product for line in offers.values()])
            order.lines = [
                order_line(line.product, quoted[line.product.id], line.quantity, line.unit_price)
                for line in offers.values()
            ]
            order.total = sum((line.line_total for line in order.lines), Decimal(0))
            order.events.append(
                OrderEvent(
                    status="placed",
                    user=order.placed_by,
                    created_at=order.created_at,
                    note=f"From quote {quote.number}",
                )
            )
            db.session.add(order)
            db.session.flush()
            quote.order_id = order.id

    acme_cart = Cart(
        company=companies["acme"],
        owner=people["request@acme.test"],
        status="submitted",
        submitted_at=now - timedelta(hours=5),
        note="Parts for the next batch of arm controllers.",
    )
    acme_cart.lines = [
        CartLine(product=products["MCU-STM32F401"], quantity=40),
        CartLine(product=products["CAP-1206-10U"], quantity=20),
    ]
    baltic_cart = Cart(company=companies["baltic"], owner=people["request@baltic.test"])
    baltic_cart.lines = [CartLine(product=p, quantity=q) for p, q in _lines_for(rng, products, 2)]
    db.session.add_all([acme_cart, baltic_cart])
