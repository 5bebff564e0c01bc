"""The emergency number a patient is told to call, by country (ISO 3166-1 alpha-2)."""

# 112 is the European and GSM-wide default; the others are the national numbers
# for ambulance services where they differ.
EMERGENCY_NUMBERS: dict[str, str] = {
    "US": "911", "CA": "911", "MX": "911", "GB": "999", "IE": "112", "AU": "000",
    "NZ": "111", "IN": "112", "ZA": "10177", "JP": "119", "KR": "119", "CN": "120",
    "BR": "192", "AR": "107", "CL": "131", "CO": "123", "PE": "106", "NG": "112",
    "KE": "999", "SG": "995", "HK": "999", "PH": "911", "TH": "1669", "IL": "101",
    "SA": "997", "AE": "998", "EG": "123", "TR": "112", "RU": "103", "PK": "1122",
    "BD": "999", "ID": "118", "MY": "999", "VN": "115", "CH": "144",
}
DEFAULT_EMERGENCY_NUMBER = "112"


def emergency_number(country: str) -> str:
    return EMERGENCY_NUMBERS.get(country.upper(), DEFAULT_EMERGENCY_NUMBER)
