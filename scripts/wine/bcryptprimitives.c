/* A stand-in for bcryptprimitives.dll, for the Wine test prefix only (scripts/test-windows.sh).
 *
 * Rust's standard library (1.78 and later) takes its random numbers from ProcessPrng in
 * bcryptprimitives.dll, which every Windows 10 and 11 has but Debian 12's Wine 8 does not, so
 * without this no Rust program starts under that Wine. It is never shipped in the zip. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* RtlGenRandom (advapi32's SystemFunction036) takes a ULONG length. */
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
