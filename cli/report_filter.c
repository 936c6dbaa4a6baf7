// SPDX-License-Identifier: BSD-2-Clause
/* Times for `report --since/--until`: "5m" ago, RFC 3339, unix time. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include "report_filter.h"

#define NS_PER_S 1000000000.0
/* int64 nanoseconds end in April 2262 */
#define MAX_UNIX_NS 9.2e18
#define MAX_UNIX_S 9200000000ll

/* A non-negative decimal number at *p ("12", "1.5"); advances *p. */
static int number(const char **p, double *out)
{
	const char *s = *p;
	double v = 0, scale = 1;
	int digits = 0;

	for (; isdigit((unsigned char)*s) && digits < 20; s++, digits++)
		v = v * 10 + (*s - '0');
	if (*s == '.') {
		s++;
		for (; isdigit((unsigned char)*s) && digits < 40; s++, digits++) {
			scale /= 10;
			v += (*s - '0') * scale;
		}
	}
	if (!digits || isdigit((unsigned char)*s))
		return -EINVAL;
	*p = s;
	*out = v;
	return 0;
}

static int duration_ago(const char *text, int64_t now, int64_t *out)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
	    {"ns", 1},	 {"us", 1e3},	{"ms", 1e6},	{"s", 1e9},
	    {"m", 60e9}, {"h", 3600e9}, {"d", 86400e9},
	};
	const char *p = text;
	double v, ns;
	size_t i;

	if (number(&p, &v))
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit))
			continue;
		ns = v * units[i].ns;
		if (ns > (double)now)
			return -EINVAL;
		*out = now - (int64_t)llround(ns);
		return 0;
	}
	return -EINVAL;
}

/* Exactly n digits at *p, as a number in [lo, hi]. */
static int digits(const char **p, int n, int lo, int hi, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	if (v < lo || v > hi)
		return -EINVAL;
	*p += n;
	*out = v;
	return 0;
}

static bool expect(const char **p, const char *set)
{
	if (!**p || !strchr(set, **p))
		return false;
	(*p)++;
	return true;
}

static int rfc3339(const char *text, int64_t *out)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = text;
	int year, mon, day, hour, min, sec, oh = 0, om = 0, sign = 0;
	double frac = 0;
	struct tm tm;
	time_t t;

	if (digits(&p, 4, 1970, 9999, &year) || !expect(&p, "-") || digits(&p, 2, 1, 12, &mon) ||
	    !expect(&p, "-") || digits(&p, 2, 1, mdays[mon - 1], &day) || !expect(&p, "Tt ") ||
	    digits(&p, 2, 0, 23, &hour) || !expect(&p, ":") || digits(&p, 2, 0, 59, &min) ||
	    !expect(&p, ":") || digits(&p, 2, 0, 60, &sec))
		return -EINVAL;
	if (*p == '.') {
		double scale = 0.1;

		if (!isdigit((unsigned char)*++p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, 0, 23, &oh) || !expect(&p, ":") || digits(&p, 2, 0, 59, &om))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm normalizes 31 February into March: the day must survive */
	if (t == (time_t)-1 || tm.tm_mday != day)
		return -EINVAL;
	t -= sign * (oh * 3600 + om * 60);
	if (t < 0 || t > MAX_UNIX_S)
		return -EINVAL;
	*out = (int64_t)t * 1000000000 + (int64_t)llround(frac * NS_PER_S);
	return 0;
}

static int unix_time(const char *text, int64_t *out)
{
	const char *p = text;
	uint64_t whole = 0;
	double v;

	/* whole numbers exactly: a record's start_unix_ns pasted back must match it */
	if (strspn(text, "0123456789") == strlen(text) && strlen(text) <= 19) {
		for (; *p; p++)
			whole = whole * 10 + (uint64_t)(*p - '0');
		uint64_t scale = whole >= 100000000000000000ull ? 1
				 : whole >= 100000000000000ull	? 1000
				 : whole >= 100000000000ull	? 1000000
								: 1000000000;

		if (whole > (uint64_t)MAX_UNIX_NS / scale)
			return -EINVAL;
		whole *= scale;
		*out = (int64_t)whole;
		return 0;
	}
	if (number(&p, &v) || *p)
		return -EINVAL;
	/* by its size: seconds until the year 5138, then ms, us, ns */
	if (v >= 1e17)
		;
	else if (v >= 1e14)
		v *= 1e3;
	else if (v >= 1e11)
		v *= 1e6;
	else
		v *= NS_PER_S;
	if (v > MAX_UNIX_NS)
		return -EINVAL;
	*out = (int64_t)llround(v);
	return 0;
}

int report_parse_when(const char *text, int64_t now_unix_ns, int64_t *out)
{
	size_t len;

	if (!text || !*text || (len = strlen(text)) > 64)
		return -EINVAL;
	if (isalpha((unsigned char)text[len - 1]) && text[len - 1] != 'Z' && text[len - 1] != 'z')
		return duration_ago(text, now_unix_ns, out);
	if (strchr(text, '-') || strchr(text, ':'))
		return rfc3339(text, out);
	return unix_time(text, out);
}
