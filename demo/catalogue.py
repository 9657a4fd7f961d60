"""The demo catalogue: categories, products with group prices and opening stock, promotions."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from core.models import (
    CENT,
    UNIT,
    Category,
    CustomerGroup,
    GroupPrice,
    Product,
    Promotion,
    PromotionGroup,
    StockMovement,
)
from extensions import db

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


def build_catalogue(
    rng: random.Random, now: datetime, groups: dict[str, CustomerGroup]
) -> dict[str, Product]:
    """Categories, the exact rows and the generated products with their group prices and
    opening stock, and three promotions; the products by SKU."""
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
    return products
