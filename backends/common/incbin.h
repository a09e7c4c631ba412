/*
 * Data built into a plugin at build time: XHAL_INCBIN(symbol, "file", tail) emits a 64-byte
 * aligned, hidden, read-only symbol holding the file's bytes as they are (the assembler's
 * .incbin), followed by `tail` (assembler text: ".byte 0\n" to NUL-terminate a text file, or a
 * label marking the end). The build passes the file's path and makes the object depend on it;
 * no generator step, and no data file at run time.
 */
#ifndef XHAL_BACKENDS_INCBIN_H
#define XHAL_BACKENDS_INCBIN_H

#define XHAL_INCBIN(symbol, file, tail)                                                            \
    __asm__(".section .rodata\n"                                                                   \
            ".balign 64\n"                                                                         \
            ".globl " #symbol "\n"                                                                 \
            ".hidden " #symbol "\n"                                                                \
            ".type " #symbol ", @object\n" #symbol ":\n"                                           \
            ".incbin \"" file "\"\n" tail ".previous\n")

#endif
