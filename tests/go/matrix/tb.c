// A cgo traceback function as another library would install with runtime.SetCgoTraceback: it
// reports no C frames (buf[0] = 0 ends the list).
struct matrix_tb_arg {
	unsigned long context, sigcontext;
	unsigned long *buf;
	unsigned long max;
};

void matrix_cgo_traceback(void *p)
{
	struct matrix_tb_arg *a = p;
	if (a->max)
		a->buf[0] = 0;
}
