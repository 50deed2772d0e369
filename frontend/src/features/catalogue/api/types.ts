/** What the admin sends on create and update (never `likes`, which is read-only). */
export interface ProductInput {
  title: string;
  image: string;
}
