/*
 * The core fills the peaks a backend leaves 0 from devices.ini (hal/src/device_peaks.c). The
 * conformnamed test plugin is the CPU backend calling itself "NVIDIA H100 PCIe" and reporting only
 * its (derived) f32 peak, so f16, bf16 and bandwidth must come from the datasheet table, and f32
 * must stay the backend's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

#ifndef XT_PLUGIN_DIR
#error "XT_PLUGIN_DIR must name the folder of libxhal-conformnamed.so"
#endif
#ifndef XT_WORK_DIR
#error "XT_WORK_DIR must name a scratch folder"
#endif

static void open_named(const char *data_dir, xhal_device_info_t *info) {
    xhal_shutdown();
    setenv("XHAL_BACKEND_PATH", XT_PLUGIN_DIR, 1);
    setenv("XHAL_BACKENDS", "conformnamed", 1);
    if (data_dir)
        setenv("XHAL_DATA_DIR", data_dir, 1);
    else
        unsetenv("XHAL_DATA_DIR");
    xhal_device_t *device = NULL;
    XT_OK(xhal_device_open("conformnamed:0", &device));
    XT_OK(xhal_device_info(device, info));
    assert_string_equal(info->name, "NVIDIA H100 PCIe");
}

static void test_datasheet_fills_what_is_missing(void **state) {
    (void)state;
    xhal_device_info_t info = {.struct_size = sizeof info};
    open_named(NULL, &info); /* hal/data/devices.ini, as the build tree has it (build/share) */
    assert_true(info.peak_flops[XHAL_DTYPE_F32] > 0);
    assert_true(info.peak_flops[XHAL_DTYPE_F32] < 10e12); /* the CPU's, not the H100's 51e12 */
    assert_true(info.peak_flops[XHAL_DTYPE_F16] == 756e12);
    assert_true(info.peak_flops[XHAL_DTYPE_BF16] == 756e12);
    assert_true(info.peak_bandwidth == 2.0e12);
    assert_non_null(strstr(info.peak_source, "derived"));
    assert_non_null(strstr(info.peak_source, "the rest from datasheet: NVIDIA H100 PCIe"));
}

static void test_data_dir_comes_first(void **state) {
    (void)state;
    xhal_device_info_t info = {.struct_size = sizeof info};
    open_named(XT_DATA_DIR, &info);
    /* The test file's figures, divided by its per_device = 2. */
    assert_true(info.peak_flops[XHAL_DTYPE_F16] == 50e12);
    assert_true(info.peak_flops[XHAL_DTYPE_BF16] == 100e12);
    assert_true(info.peak_bandwidth == 1.5e12);
    assert_non_null(strstr(info.peak_source, "Test H100 PCIe"));
    /* A folder without the file: the next place is used. */
    open_named(XT_PLUGIN_DIR, &info);
    assert_true(info.peak_bandwidth == 2.0e12);
}

static void test_cpu_is_not_matched(void **state) {
    (void)state;
    xhal_shutdown();
    setenv("XHAL_BACKENDS", "cpu", 1); /* the CPU alone: other plugins are not the point here */
    unsetenv("XHAL_DATA_DIR");
    xhal_device_t *device = NULL;
    xhal_device_info_t info = {.struct_size = sizeof info};
    XT_OK(xhal_device_open("cpu", &device));
    XT_OK(xhal_device_info(device, &info));
    /* A CPU's peaks are derived by its backend; devices.ini has nothing to add. */
    assert_null(strstr(info.peak_source, "datasheet"));
}

/*
 * Issue 14, defect 9: a devices.ini that is a link to /dev/zero, or a FIFO, hung every device
 * open (the reader never saw an end of file, or waited for a writer). Now it is refused with a
 * warning and the device opens without datasheet figures. The alarm turns a hang into a failure.
 */
static void test_data_file_that_is_not_a_file(void **state) {
    (void)state;
    const char *dirs[] = {XT_WORK_DIR "/zero", XT_WORK_DIR "/fifo"};
    mkdir(XT_WORK_DIR, 0755);
    for (int i = 0; i < 2; i++) {
        mkdir(dirs[i], 0755);
        char path[512];
        snprintf(path, sizeof path, "%s/devices.ini", dirs[i]);
        unlink(path);
        assert_int_equal(i == 0 ? symlink("/dev/zero", path) : mkfifo(path, 0600), 0);
        alarm(30);
        xhal_device_info_t info = {.struct_size = sizeof info};
        open_named(dirs[i], &info);
        alarm(0);
        assert_true(info.peak_flops[XHAL_DTYPE_F16] == 0); /* not from the datasheet */
        assert_null(strstr(info.peak_source, "datasheet"));
    }
}

/*
 * Found by fuzz_ini: a finite figure whose peak per second is not (fp16 = 1e308 TFLOP/s is inf
 * FLOP/s; 1e-320 TFLOP/s is under one FLOP/s) was filled in. Each is now warned about and left
 * 0, and the usable figures of the same section are still filled.
 */
static void test_figures_that_overflow(void **state) {
    (void)state;
    const char *dir = XT_WORK_DIR "/overflow";
    mkdir(XT_WORK_DIR, 0755);
    mkdir(dir, 0755);
    char path[512];
    snprintf(path, sizeof path, "%s/devices.ini", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[Overflowing H100]\nmatch = H100 PCIe\nfp16 = 1e308\nbf16 = 1e-320\n"
          "bandwidth = 2\n",
          f);
    fclose(f);
    xhal_device_info_t info = {.struct_size = sizeof info};
    open_named(dir, &info);
    assert_true(info.peak_flops[XHAL_DTYPE_F16] == 0);
    assert_true(info.peak_flops[XHAL_DTYPE_BF16] == 0);
    assert_true(info.peak_bandwidth == 2e12);
    assert_true(info.peak_flops[XHAL_DTYPE_F32] > 0 && info.peak_flops[XHAL_DTYPE_F32] < 10e12);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datasheet_fills_what_is_missing),
        cmocka_unit_test(test_data_dir_comes_first),
        cmocka_unit_test(test_cpu_is_not_matched),
        cmocka_unit_test(test_data_file_that_is_not_a_file),
        cmocka_unit_test(test_figures_that_overflow),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    xhal_shutdown();
    return failed;
}
