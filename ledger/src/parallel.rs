//! Work split over the machine's cores.

/// `f(i, &items[i])` for every item, the items cut in one contiguous share per core,
/// each share on its own (scoped) thread; the results in the items' order, or the
/// first error in that order. Blocks until every share is done. On one core, or for
/// one item, runs on the calling thread.
pub fn try_map<T, U, E>(
    items: &[T],
    f: impl Fn(usize, &T) -> Result<U, E> + Sync,
) -> Result<Vec<U>, E>
where
    T: Sync,
    U: Send,
    E: Send,
{
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores == 1 || items.len() <= 1 {
        // No thread to gain; and where threads cannot be started (the browser's
        // wasm32), `available_parallelism` fails, so the work stays here.
        return items
            .iter()
            .enumerate()
            .map(|(i, item)| f(i, item))
            .collect();
    }
    let share = items.len().div_ceil(cores).max(1);
    let f = &f;
    let shares: Vec<Result<Vec<U>, E>> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(share)
            .enumerate()
            .map(|(c, part)| {
                s.spawn(move || {
                    part.iter()
                        .enumerate()
                        .map(|(i, item)| f(c * share + i, item))
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a share of the work panicked"))
            .collect()
    });
    let mut out = Vec::with_capacity(items.len());
    for share in shares {
        out.extend(share?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::try_map;

    #[test]
    fn results_keep_the_items_order_and_the_first_error_wins() {
        let items: Vec<u64> = (0..1000).collect();
        let doubled = try_map(&items, |i, &x| {
            assert_eq!(i as u64, x);
            Ok::<_, ()>(x * 2)
        });
        assert_eq!(doubled, Ok((0..1000).map(|x| x * 2).collect()));
        let failed = try_map(&items, |_, &x| if x % 300 == 299 { Err(x) } else { Ok(x) });
        assert_eq!(failed, Err(299));
        assert_eq!(try_map(&[] as &[u8], |_, &x| Ok::<_, ()>(x)), Ok(vec![]));
    }
}
