/*
 * view.cc - a view of a caller's array: (data, count).  at() is a member
 * of a class template, so each element type has its own instance (a COMDAT
 * function) shared by every object that uses it.
 */
#include "api.h"

template <typename T> class view {
public:
	view(const T *d, std::size_t n) : d_(d), n_(n) {}
	T at(std::size_t i, T fallback) const;

private:
	const T *d_;
	std::size_t n_;
};

/* Element i, or fallback when i is past the end. */
template <typename T> T view<T>::at(std::size_t i, T fallback) const
{
	(void)fallback;
	return d_[i];
}

/* Elements i and i + 1 added up. */
int view_pair_int(const int *data, std::size_t n, std::size_t i)
{
	view<int> v(data, n);

	return v.at(i, -1) + v.at(i + 1, -1);
}

double view_pair_double(const double *data, std::size_t n, std::size_t i)
{
	view<double> v(data, n);

	return v.at(i, -1.0) + v.at(i + 1, -1.0);
}
