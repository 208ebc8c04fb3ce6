/* Freestanding helpers: memory functions, PL011 debug output, a timer. */
#include <stdarg.h>
#include "mon.h"

#define PL011_DR  ((volatile uint32_t *)0x09000000)
#define PL011_FR  ((volatile uint32_t *)0x09000018)

int mon_debug;

/*
 * The monitor runs with its MMU off (all data accesses are Device memory), so
 * these never make unaligned accesses: 8 bytes at a time only when both
 * sides are aligned, bytes otherwise (pool pages are zeroed a page at a time).
 */
void *memset(void *d, int c, size_t n)
{
	volatile uint8_t *p = d;

	if (!c && !((uintptr_t)p & 7)) {
		for (; n >= 8; n -= 8, p += 8)
			*(volatile uint64_t *)p = 0;
	}
	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	volatile uint8_t *p = d;
	const volatile uint8_t *q = s;

	if (!(((uintptr_t)p | (uintptr_t)q) & 7)) {
		for (; n >= 8; n -= 8, p += 8, q += 8)
			*(volatile uint64_t *)p = *(const volatile uint64_t *)q;
	}
	while (n--)
		*p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *p = a, *q = b;

	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p < *q ? -1 : 1;
	return 0;
}

static void uart_putc(char c)
{
	while (*PL011_FR & (1u << 5))   /* TX FIFO full */
		;
	*PL011_DR = (uint8_t)c;
}

void uart_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			uart_putc('\r');
		uart_putc(*s);
	}
}

static void put_num(uint64_t v, unsigned int base, int width)
{
	char buf[24];
	int i = 0;

	do {
		unsigned int d = (unsigned int)(v % base);

		buf[i++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	while (i < width)
		buf[i++] = '0';
	while (i)
		uart_putc(buf[--i]);
}

/* A tiny printf: %s %d %u %x %lx %llx %c %%, with an optional width. */
void mon_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		int width = 0, is_long = 0;

		if (*fmt != '%') {
			if (*fmt == '\n')
				uart_putc('\r');
			uart_putc(*fmt);
			continue;
		}
		fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			is_long = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			uart_puts(va_arg(ap, const char *));
			break;
		case 'd': {
			int64_t v = is_long ? va_arg(ap, int64_t) : va_arg(ap, int);

			if (v < 0) {
				uart_putc('-');
				v = -v;
			}
			put_num((uint64_t)v, 10, width);
			break;
		}
		case 'u':
			put_num(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int), 10, width);
			break;
		case 'x':
			put_num(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int), 16, width);
			break;
		case 'c':
			uart_putc((char)va_arg(ap, int));
			break;
		case '%':
			uart_putc('%');
			break;
		default:
			uart_putc('?');
			break;
		}
	}
	va_end(ap);
}

uint64_t counter_ms(void)
{
	uint64_t f = read_sysreg(cntfrq_el0), c = read_sysreg(cntpct_el0);

	return f ? c / (f / 1000) : c;
}
