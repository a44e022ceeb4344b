"""Arabic formats as Libyan official documents write them: Western digits, day before month,
the Arabic comma between date and time, "," grouping thousands and "." before decimals (Django's
own Arabic locale swaps the two separators and writes dates month first). docs/pages.md."""

DATE_FORMAT = "j F Y"
TIME_FORMAT = "g:i A"
DATETIME_FORMAT = "j F Y، g:i A"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y، g:i A"
FIRST_DAY_OF_WEEK = 6  # Saturday

# The first format is what <input type="date"> sends; the others are what people type.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
