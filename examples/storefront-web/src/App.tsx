import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { Hub } from 'aws-amplify/utils';
import { generateClient } from 'aws-amplify/api';
import { fetchAuthSession, getCurrentUser, signIn, signOut } from 'aws-amplify/auth';
import { CONNECTION_STATE_CHANGE, type ConnectionState } from 'aws-amplify/data';
import {
  GetProductDocument,
  ListProductsDocument,
  PlaceOrderDocument,
  errorText,
  mutation,
  onOrderStatusChanged,
  onProductUpdated,
  query,
  type OrderFieldsFragment,
  type OrderStatus,
  type ProductFieldsFragment,
} from './api.js';
import type { StorefrontConfig } from './config.js';

const client = generateClient();
const PAGE_SIZE = 5;

interface SignedInUser {
  readonly username: string;
  /** The user's sub: orders' customerId. */
  readonly userId: string;
  readonly groups: readonly string[];
}

const price = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;

export function App({ config }: { config: StorefrontConfig }) {
  const [user, setUser] = useState<SignedInUser | null | undefined>(undefined);
  const [selected, setSelected] = useState<string | null>(null);

  const refreshUser = useCallback(async () => {
    try {
      const { username, userId } = await getCurrentUser();
      const { tokens } = await fetchAuthSession();
      const groups = tokens?.accessToken.payload['cognito:groups'];
      setUser({ username, userId, groups: Array.isArray(groups) ? groups.map(String) : [] });
    } catch {
      setUser(null);
    }
  }, []);
  useEffect(() => void refreshUser(), [refreshUser]);

  return (
    <>
      <header>
        <h1>Storefront</h1>
        <RealtimeState />
        <AuthPanel user={user} onChange={refreshUser} />
      </header>
      <ProductList category={config.defaultCategory} onSelect={setSelected} />
      {selected && <ProductPage key={selected} id={selected} user={user ?? null} />}
    </>
  );
}

/** Amplify's real-time connection state, from its Hub events. */
function RealtimeState() {
  const [state, setState] = useState<ConnectionState | 'idle'>('idle');
  useEffect(
    () =>
      Hub.listen('api', ({ payload }) => {
        if (payload.event === CONNECTION_STATE_CHANGE) setState((payload.data as { connectionState: ConnectionState }).connectionState);
      }),
    [],
  );
  return (
    <span className="muted" data-testid="realtime-state">
      real-time: {state}
    </span>
  );
}

function AuthPanel({ user, onChange }: { user: SignedInUser | null | undefined; onChange: () => Promise<void> }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (user === undefined) return <span className="muted">…</span>;
  if (user) {
    return (
      <div>
        Signed in as <strong data-testid="signed-in-user">{user.username}</strong>
        {user.groups.length > 0 && <span className="muted"> ({user.groups.join(', ')})</span>}{' '}
        <button type="button" data-testid="sign-out" onClick={() => void signOut().finally(onChange)}>
          Sign out
        </button>
      </div>
    );
  }
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // Amplify's default flow, USER_SRP_AUTH (the password never leaves the page): what the deployed web
      // client allows, and what the local stack's Cognito endpoint serves too.
      const result = await signIn({ username, password });
      if (!result.isSignedIn) throw new Error(`Sign-in needs another step: ${result.nextStep.signInStep}`);
      setPassword('');
      await onChange();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)} data-testid="sign-in-form">
      <input
        data-testid="sign-in-username"
        placeholder="username"
        autoComplete="username"
        value={username}
        onChange={(e) => setUsername(e.target.value)}
      />
      <input
        data-testid="sign-in-password"
        placeholder="password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <button data-testid="sign-in-submit" type="submit" disabled={busy || !username || !password}>
        Sign in
      </button>
      {error && (
        <span className="error" data-testid="sign-in-error">
          {error}
        </span>
      )}
    </form>
  );
}

function ProductList({ category: initialCategory, onSelect }: { category: string; onSelect: (id: string) => void }) {
  const [category, setCategory] = useState(initialCategory);
  const [draft, setDraft] = useState(initialCategory);
  /** The nextToken that opens each page seen so far: tokens[0] is the first page (null). */
  const [tokens, setTokens] = useState<Array<string | null>>([null]);
  const [page, setPage] = useState(0);
  const [items, setItems] = useState<ProductFieldsFragment[] | null>(null);
  const [nextToken, setNextToken] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    setItems(null);
    setError(null);
    client
      .graphql({ query: query(ListProductsDocument), variables: { category, limit: PAGE_SIZE, nextToken: tokens[page] ?? null } })
      .then(({ data }) => {
        if (!current) return;
        setItems(data.products.items);
        setNextToken(data.products.nextToken ?? null);
      })
      .catch((e: unknown) => current && setError(errorText(e)));
    return () => {
      current = false;
    };
  }, [category, page, tokens]);

  const next = () => {
    if (!nextToken) return;
    setTokens((seen) => [...seen.slice(0, page + 1), nextToken]);
    setPage(page + 1);
  };
  const choose = (event: FormEvent) => {
    event.preventDefault();
    setTokens([null]);
    setPage(0);
    setCategory(draft.trim());
  };

  return (
    <section data-testid="product-list">
      <h2>Products</h2>
      <form onSubmit={choose}>
        <label>
          Category <input data-testid="category-input" value={draft} onChange={(e) => setDraft(e.target.value)} />
        </label>
        <button type="submit" data-testid="category-submit">
          Show
        </button>
      </form>
      {error && (
        <p className="error" data-testid="product-list-error">
          {error}
        </p>
      )}
      {items === null && !error && <p className="muted">Loading…</p>}
      {items && (
        <table data-testid="product-table" data-page={page + 1}>
          <tbody>
            {items.map((product) => (
              <tr key={product.id} data-testid="product-row" data-product-id={product.id}>
                <td>
                  <button type="button" className="link" data-testid="product-link" onClick={() => onSelect(product.id)}>
                    {product.name}
                  </button>
                </td>
                <td>{price(product.priceCents, product.currency)}</td>
                <td data-testid="product-row-stock">{product.stock ?? '–'}</td>
              </tr>
            ))}
            {items.length === 0 && (
              <tr>
                <td className="muted">No products in {category}.</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      <p>
        <button type="button" data-testid="previous-page" disabled={page === 0} onClick={() => setPage(page - 1)}>
          Previous
        </button>
        <span data-testid="page-number">Page {page + 1}</span>{' '}
        <button type="button" data-testid="next-page" disabled={!nextToken} onClick={next}>
          Next
        </button>
      </p>
    </section>
  );
}

function ProductPage({ id, user }: { id: string; user: SignedInUser | null }) {
  const [product, setProduct] = useState<ProductFieldsFragment | null>(null);
  const [events, setEvents] = useState<Array<{ stock: number | null; version: number }>>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    client
      .graphql({ query: query(GetProductDocument), variables: { id } })
      .then(({ data }) => current && setProduct(data.product ?? null))
      .catch((e: unknown) => current && setError(errorText(e)));
    // Live stock: AppSync pushes every updateProduct/adjustStock of this product.
    const subscription = client.graphql({ query: onProductUpdated, variables: { id } }).subscribe({
      next: ({ data }) => {
        const update = data.onProductUpdated;
        if (!current || !update) return;
        setProduct((before) => (before && before.version <= update.version ? { ...before, ...update } : before));
        setEvents((seen) => [...seen, { stock: update.stock, version: update.version }]);
      },
      error: (e: unknown) => current && setError(`Live updates stopped: ${errorText(e)}`),
    });
    return () => {
      current = false;
      subscription.unsubscribe();
    };
  }, [id]);

  return (
    <section data-testid="product-page" data-product-id={id}>
      {error && (
        <p className="error" data-testid="product-error">
          {error}
        </p>
      )}
      {product && (
        <>
          <h2 data-testid="product-name">{product.name}</h2>
          <p>{product.description}</p>
          <p>
            {price(product.priceCents, product.currency)} · In stock: <strong data-testid="product-stock">{product.stock ?? '–'}</strong>{' '}
            <span className="muted">
              (version <span data-testid="product-version">{product.version}</span>)
            </span>
          </p>
          <ul data-testid="stock-events" className="muted">
            {events.map((event) => (
              <li key={event.version} data-testid="stock-event">
                stock is now {event.stock ?? '–'} (version {event.version})
              </li>
            ))}
          </ul>
          {user ? (
            <OrderForm product={product} user={user} />
          ) : (
            <p className="muted" data-testid="sign-in-to-order">
              Sign in to order.
            </p>
          )}
        </>
      )}
    </section>
  );
}

function OrderForm({ product, user }: { product: ProductFieldsFragment; user: SignedInUser }) {
  const [quantity, setQuantity] = useState(1);
  const [order, setOrder] = useState<OrderFieldsFragment | null>(null);
  const [history, setHistory] = useState<OrderStatus[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const orderId = useRef<string | null>(null);

  // Status changes of this user's orders (the subscription is open to the customer only: authMode userPool).
  useEffect(() => {
    const subscription = client
      .graphql({ query: onOrderStatusChanged, variables: { customerId: user.userId }, authMode: 'userPool' })
      .subscribe({
        next: ({ data }) => {
          const change = data.onOrderStatusChanged;
          if (!change || change.id !== orderId.current) return;
          setOrder((before) => (before ? { ...before, status: change.status, updatedAt: change.updatedAt } : before));
          setHistory((seen) => [...seen, change.status]);
        },
        error: (e: unknown) => setError(`Live order status stopped: ${errorText(e)}`),
      });
    return () => subscription.unsubscribe();
  }, [user.userId]);

  const place = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { data } = await client.graphql({
        query: mutation(PlaceOrderDocument),
        variables: { input: { clientToken: crypto.randomUUID(), items: [{ productId: product.id, quantity }] } },
        authMode: 'userPool',
      });
      orderId.current = data.placeOrder.id;
      setOrder(data.placeOrder);
      setHistory([data.placeOrder.status]);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div data-testid="order-panel">
      <form onSubmit={(event) => void place(event)}>
        <label>
          Quantity{' '}
          <input
            data-testid="order-quantity"
            type="number"
            min={1}
            value={quantity}
            onChange={(e) => setQuantity(Math.max(1, Number(e.target.value) || 1))}
          />
        </label>
        <button data-testid="place-order" type="submit" disabled={busy}>
          Place order
        </button>
      </form>
      {error && (
        <p className="error" data-testid="order-error">
          {error}
        </p>
      )}
      {order && (
        <p data-testid="order" data-order-id={order.id}>
          Order <code data-testid="order-id">{order.id}</code>: <strong data-testid="order-status">{order.status}</strong>, total{' '}
          <span data-testid="order-total">{price(order.totalCents, order.currency)}</span>
          <span className="muted" data-testid="order-status-history">
            {' '}
            ({history.join(' → ')})
          </span>
        </p>
      )}
    </div>
  );
}
